using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Automation.Tokens;

/// <summary>
/// <c>Authorization: Bearer ccp_…</c> on <c>/api/v1</c>. The token and its user are read from the database in one query,
/// at most <see cref="AutomationOptions.TokenCheckCacheFor"/> (2 seconds) before the request (<see cref="ApiTokenCache"/>):
/// an expired token is refused at once, a token revoked in this portal at once, a disabled user within that bound; the
/// roles the caller gets are the user's, equally fresh, capped by the token's scopes. Cookies never reach the API (its policies name this scheme
/// only), so a page cannot be tricked into calling it with the user's session.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDbContextFactory<PortalDbContext> contexts,
    IOptions<IdentityOptions> identity,
    AuditLog audit,
    TokenUseRecorder uses,
    ApiTokenCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string RefusalItem = "CheeseCave.ApiToken.Refusal";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var text = header["Bearer ".Length..].Trim();
        if (!ApiTokenSecrets.LooksValid(text))
        {
            return Refuse("This is not a CheeseCave API token (they start with ccp_ and are 47 characters long).");
        }

        var hash = ApiTokenSecrets.Hash(text);
        var hashKey = Convert.ToBase64String(hash);
        var now = TimeProvider.GetUtcNow();
        var found = cache.Find(hashKey);
        if (found is null)
        {
            await using var db = await contexts.CreateDbContextAsync(Context.RequestAborted).ConfigureAwait(false);
            found = await FindAsync(db, hash).ConfigureAwait(false);
            if (found is { RevokedAt: null, IsDisabled: false })
            {
                cache.Keep(hashKey, found);
            }
        }

        if (found is null)
        {
            return Refuse("This API token is not known: it may have been mistyped, or deleted with its user.");
        }

        var refusal = found.RevokedAt is { } revoked ? $"This API token was revoked on {revoked.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC."
            : found.ExpiresAt <= now ? $"This API token expired on {found.ExpiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC."
            : found.IsDisabled ? "The user this API token belongs to is disabled."
            : null;
        var owner = new Actor(found.UserId, found.UserName ?? found.UserId);
        if (refusal is not null)
        {
            await audit.WriteAsync(owner, AutomationAuditActions.TokenRefused, $"api token #{found.TokenId} ({found.Prefix}…)", AuditOutcomes.Denied, refusal, Context.RequestAborted).ConfigureAwait(false);
            return Refuse(refusal);
        }

        uses.Used(found.TokenId);

        var scopes = found.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, found.UserId),
            new(ClaimTypes.Name, owner.Name),
            new(identity.Value.ClaimsIdentity.SecurityStampClaimType, found.SecurityStamp ?? ""),
            new(ApiTokenPrincipal.TokenIdClaim, found.TokenId.ToString(CultureInfo.InvariantCulture)),
        };
        claims.AddRange(scopes.Select(s => new Claim(ApiTokenPrincipal.ScopeClaim, s)));
        claims.AddRange(ApiTokenPrincipal.CappedRoles(found.Roles.OfType<string>(), scopes).Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiTokenPrincipal.Scheme));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, ApiTokenPrincipal.Scheme));
    }

    /// <summary>The token with its user and the user's roles: one compiled query, since every API request runs it.</summary>
    private static readonly Func<PortalDbContext, byte[], Task<TokenOwner?>> FindAsync = EF.CompileAsyncQuery((PortalDbContext db, byte[] hash) =>
        (from token in db.ApiTokens.AsNoTracking()
         where token.SecretHash == hash
         join user in db.Users on token.UserId equals user.Id
         select new TokenOwner(
             token.Id,
             token.Prefix,
             token.Scopes,
             token.ExpiresAt,
             token.RevokedAt,
             token.LastUsedAt,
             user.Id,
             user.UserName,
             user.IsDisabled,
             user.SecurityStamp,
             (from userRole in db.UserRoles
              where userRole.UserId == user.Id
              join role in db.Roles on userRole.RoleId equals role.Id
              select role.Name).ToList())).FirstOrDefault());

    private AuthenticateResult Refuse(string why)
    {
        Context.Items[RefusalItem] = why;
        return AuthenticateResult.Fail(why);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var why = Context.Items[RefusalItem] as string ?? "This API needs a personal API token: send it as \"Authorization: Bearer ccp_…\".";
        Response.Headers.WWWAuthenticate = "Bearer";
        return ApiProblemWriter.WriteAsync(Context, StatusCodes.Status401Unauthorized, why, "Create a token on your account page (/account) and send it in the Authorization header; cookies do not work here.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var needed = Context.GetEndpoint()?.Metadata.GetMetadata<ApiScopeMetadata>()?.Scope ?? ApiTokenPrincipal.Read;
        return ApiProblemWriter.WriteAsync(Context, StatusCodes.Status403Forbidden,
            $"This token may not do this: it needs the {needed} scope and a user with the role for it ({(needed == ApiTokenPrincipal.Read ? PortalRoles.Viewer : PortalRoles.Operator)} or above).",
            "Create a token with that scope, or ask an administrator for the role.");
    }
}

/// <summary>The scope an API endpoint needs, for the 403 sentence.</summary>
public sealed record ApiScopeMetadata(string Scope);
