namespace CheeseCave.Portal.Persistence;

/// <summary>
/// A personal API token: it acts as its user, capped by its scopes. Only the SHA-256 of the secret is stored; the
/// secret itself is shown once, when it is made. <see cref="Prefix"/> lets the owner recognise it in lists.
/// </summary>
public sealed class ApiToken
{
    public int Id { get; set; }

    public string UserId { get; set; } = "";

    public string UserName { get; set; } = "";

    /// <summary>What the owner called it ("line 3 flasher").</summary>
    public string Name { get; set; } = "";

    /// <summary>The first characters of the token (<c>ccp_</c> and 8 more), for recognition; not enough to use it.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>SHA-256 of the whole token text.</summary>
    public byte[] SecretHash { get; set; } = [];

    /// <summary>Space-separated: read, issue, operate.</summary>
    public string Scopes { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Updated at most once a minute, so using a token does not mean a write per request.</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }
}
