using Microsoft.AspNetCore.Identity;

namespace CheeseCave.Portal.Persistence;

/// <summary>A local account. Each user holds exactly one of the <see cref="Security.PortalRoles"/>.</summary>
public sealed class PortalUser : IdentityUser
{
    /// <summary>A disabled user cannot sign in, and loses an open session at the next security-stamp check.</summary>
    public bool IsDisabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
