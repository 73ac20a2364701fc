using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Automation.Tokens;

/// <summary>
/// A signed-in user's personal API tokens: create (the secret shown once), list, revoke. A token can only be made in
/// a browser session, never with another token, and only with scopes the user's role can use.
/// </summary>
public sealed class ApiTokenService(
    ICallerAuthorization authorization,
    IDbContextFactory<PortalDbContext> contexts,
    AuditLog audit,
    IOptionsMonitor<AutomationOptions> options,
    TimeProvider time,
    ApiTokenCache checks)
{
    public const int MaxNameLength = 100;

    public async Task<PortalResult<CreatedApiToken>> CreateAsync(ClaimsPrincipal caller, ApiTokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var actor = await RequireSessionAsync(caller, AutomationAuditActions.TokenCreated, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<CreatedApiToken>(PortalError.NotAllowed("create API tokens"));
        }

        var settings = options.CurrentValue;
        var name = (request.Name ?? "").Trim();
        var scopes = ApiTokenPrincipal.AllScopes.Where(s => request.Scopes.Contains(s, StringComparer.Ordinal)).ToList();
        var problem = name.Length == 0 ? new PortalError("The token has no name.", "Name it after where it will be used, e.g. \"line 3 flasher\".")
            : name.Length > MaxNameLength ? new PortalError($"The name is {name.Length} characters long.", $"Use at most {MaxNameLength} characters.")
            : FreeText.HiddenCharacterProblem(name, "name") is { } hidden ? new PortalError(hidden, "Name it after where it will be used, e.g. \"line 3 flasher\".")
            : scopes.Count == 0 || scopes.Count != request.Scopes.Distinct(StringComparer.Ordinal).Count() ? new PortalError("Choose at least one scope: read, issue or operate.", "Pick read for scripts that only look, issue for factory lines.")
            : request.ValidDays < 1 || request.ValidDays > settings.TokenMaxDays ? new PortalError($"A token can be valid for 1 to {settings.TokenMaxDays} days, not {request.ValidDays}.", $"Choose up to {settings.TokenMaxDays} days (default {settings.TokenDefaultDays}).")
            : null;
        if (problem is null && ApiTokenPrincipal.HighestRole(scopes) != PortalRoles.Viewer
            && await authorization.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false) is null)
        {
            problem = new PortalError("The issue and operate scopes need the Operator role, which you do not have.", "Create a read token, or ask an administrator for the Operator role.");
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (problem is null && !await db.Users.AnyAsync(u => u.Id == actor.Id, cancellationToken).ConfigureAwait(false))
        {
            problem = new PortalError("API tokens belong to local accounts, and you signed in with Entra ID.", "Use a workload identity in Entra ID for automation, or ask an administrator for a local account.");
        }

        if (problem is not null)
        {
            return PortalResult.Fail<CreatedApiToken>(problem);
        }

        var secret = ApiTokenSecrets.Create();
        var now = time.GetUtcNow();
        var token = new ApiToken
        {
            UserId = actor.Id!,
            UserName = actor.Name,
            Name = name,
            Prefix = ApiTokenSecrets.Recognisable(secret),
            SecretHash = ApiTokenSecrets.Hash(secret),
            Scopes = string.Join(' ', scopes),
            CreatedAt = now,
            ExpiresAt = now.AddDays(request.ValidDays),
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(actor, AutomationAuditActions.TokenCreated, Target(token), AuditOutcomes.Succeeded,
            $"scopes {token.Scopes}; expires {token.ExpiresAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}", cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new CreatedApiToken(View(token), secret));
    }

    /// <summary>The caller's own tokens, newest first.</summary>
    public async Task<PortalResult<IReadOnlyList<ApiTokenView>>> ListAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<IReadOnlyList<ApiTokenView>>(PortalError.NotAllowed("see API tokens"));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == actor.Id).OrderByDescending(t => t.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok<IReadOnlyList<ApiTokenView>>([.. tokens.Select(View)]);
    }

    /// <summary>Revokes one of the caller's tokens (an Administrator may revoke anyone's); it stops working with the next request.</summary>
    public async Task<PortalResult<ApiTokenView>> RevokeAsync(ClaimsPrincipal caller, int tokenId, CancellationToken cancellationToken = default)
    {
        var actor = await RequireSessionAsync(caller, AutomationAuditActions.TokenRevoked, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<ApiTokenView>(PortalError.NotAllowed("revoke API tokens"));
        }

        var isAdministrator = await authorization.RequireAsync(caller, PortalRoles.Administrator, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId, cancellationToken).ConfigureAwait(false);
        if (token is null || (token.UserId != actor.Id && !isAdministrator))
        {
            return PortalResult.Fail<ApiTokenView>(new PortalError("There is no such token among yours.", "Refresh the list; it may have been removed.", Status: 404));
        }

        if (token.RevokedAt is null)
        {
            token.RevokedAt = time.GetUtcNow();
            token.RevokedBy = actor.Name;
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            checks.Forget(token.Id); // effective with the very next request, not after the check cache's bound
            await audit.WriteAsync(actor, AutomationAuditActions.TokenRevoked, Target(token), AuditOutcomes.Succeeded, null, cancellationToken).ConfigureAwait(false);
        }

        return PortalResult.Ok(View(token));
    }

    /// <summary>
    /// Tokens are managed from a browser session only: a token that could mint or revoke tokens would outlive its own
    /// revocation. Refusals are audited.
    /// </summary>
    private async Task<Actor?> RequireSessionAsync(ClaimsPrincipal caller, string action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var actor = ApiTokenPrincipal.IsToken(caller) ? null : await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), action, "api tokens", AuditOutcomes.Denied, "a signed-in user required", cancellationToken).ConfigureAwait(false);
        }

        return actor;
    }

    private static string Target(ApiToken token) => $"api token #{token.Id} \"{token.Name}\" ({token.Prefix}…) of {token.UserName}";

    internal static ApiTokenView View(ApiToken token) => new(token.Id, token.Name, token.Prefix, token.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        token.CreatedAt, token.ExpiresAt, token.LastUsedAt, token.RevokedAt, token.RevokedBy);
}
