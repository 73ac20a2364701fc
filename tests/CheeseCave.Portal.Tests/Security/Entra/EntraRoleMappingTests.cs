using System.Security.Claims;
using Azure.Core;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>Roles from app-role claims, as the OpenID Connect token-validated event rewrites them.</summary>
public sealed class EntraRoleMappingTests
{
    [Theory]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "Viewer" }, "Viewer")]
    [InlineData(new[] { "Operator", "Viewer" }, "Operator")]
    [InlineData(new[] { "Administrator", "Approver" }, "Administrator")]
    [InlineData(new[] { "viewer", "Owner" }, null)]
    public void Highest_known_app_role_wins(string[] appRoles, string? expected)
    {
        var principal = EntraPortalFactory.EntraUser("u@contoso.example", appRoles);
        Assert.Equal(expected, EntraRoles.HighestRole(principal));
        Assert.Equal(expected is not null, expected is not null && principal.IsInRole(expected));
    }

    [Fact]
    public void Normalize_keeps_only_the_four_roles_as_role_claims_and_uses_the_object_id()
    {
        // As ASP.NET Core's inbound claim mapping delivers them: ClaimTypes.Role and the long object-id claim type.
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Role, "Operator"),
                new Claim(ClaimTypes.Role, "Reader"),
                new Claim("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid-123"),
                new Claim(ClaimTypes.NameIdentifier, "pairwise-sub"),
                new Claim("name", "Olga"),
            ],
            "AuthenticationTypes.Federation", ClaimTypes.Name, "roles"); // a name claim type the token does not carry

        EntraRoles.Normalize(identity);

        Assert.Equal(["Operator"], identity.FindAll("roles").Select(c => c.Value));
        Assert.Empty(identity.FindAll(ClaimTypes.Role));
        Assert.Equal("entra:oid-123", Assert.Single(identity.FindAll(ClaimTypes.NameIdentifier)).Value);
        Assert.Equal("Olga", identity.Name);
        var principal = new ClaimsPrincipal(identity);
        Assert.True(principal.IsInRole("Operator"));
        Assert.True(EntraRoles.HasAtLeast(principal, PortalRoles.Viewer));
        Assert.False(EntraRoles.HasAtLeast(principal, PortalRoles.Approver));
    }
}
