namespace CheeseCave.Portal.Automation.Tokens;

/// <summary>A token as its owner sees it in the list: never the secret.</summary>
public sealed record ApiTokenView(
    int Id,
    string Name,
    string Prefix,
    IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;
}

/// <summary>A new token: the secret is in <see cref="Secret"/> this once, and nowhere else ever.</summary>
public sealed record CreatedApiToken(ApiTokenView Token, string Secret);

/// <summary>What the page asks for.</summary>
public sealed record ApiTokenRequest(string Name, IReadOnlyList<string> Scopes, int ValidDays);
