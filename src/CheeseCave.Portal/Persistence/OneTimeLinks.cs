namespace CheeseCave.Portal.Persistence;

/// <summary>
/// The first-run setup link. Only the SHA-256 of the token is stored; the token itself exists in the one log
/// message that prints the link. A link is used once and expires after 24 hours.
/// </summary>
public sealed class SetupToken
{
    public int Id { get; set; }

    public byte[] TokenHash { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Set when the link created the first administrator, or when a newer link replaced it.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>An invitation link for one user name and role. Only the token's SHA-256 is stored; single use; 7 days.</summary>
public sealed class Invitation
{
    public int Id { get; set; }

    public byte[] TokenHash { get; set; } = [];

    public string UserName { get; set; } = "";

    public string Role { get; set; } = "";

    public string CreatedById { get; set; } = "";

    public string CreatedBy { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? AcceptedAt { get; set; }

    public string? AcceptedUserId { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public bool IsOpen(DateTimeOffset now) => AcceptedAt is null && RevokedAt is null && ExpiresAt > now;
}
