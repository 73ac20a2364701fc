using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// Issuance grants: request one (four eyes when the installation gates <see cref="ApprovalAction.IssuanceGrant"/>;
/// otherwise active at once, audited all the same), list them, see one with its usage, revoke one (Operator or above,
/// which includes approvers; effective with the next request).
/// </summary>
public sealed class GrantHandler(SetupPipeline pipeline, GrantLedger ledger)
{
    private const int RecentDevices = 50;

    public Task<PortalResult<GrantView>> RequestAsync(ClaimsPrincipal caller, int setupId, GrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CreateAsync(caller, setupId, new IssuanceGrantPayload(request.Name.Trim(), request.Pattern.Trim(), request.MaxCount, request.ValidityDays, request.ExpiresInDays), null, cancellationToken);
    }

    /// <summary>The change itself: run at once, recorded as a request, or applied once approved (<paramref name="grant"/>).</summary>
    internal Task<PortalResult<GrantView>> CreateAsync(ClaimsPrincipal caller, int setupId, IssuanceGrantPayload request, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var detail = $"grant \"{request.Name}\": {request.Pattern}, up to {request.MaxCount}, {request.ValidityDays} days, lasts {request.ExpiresInDays} days";
        return pipeline.RunAsync(new SetupChange<GrantView>(caller, setupId, AutomationAuditActions.GrantRequested, "create an issuance grant", detail, async (setup, _, db) =>
        {
            if (GrantRules.Check(request.ToRequest()) is { } problem)
            {
                return PortalResult.Fail<GrantView>(problem);
            }

            var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var (_, issuer) = SetupCertificates.SigningCa(setup, cas);
            if (issuer is null)
            {
                return PortalResult.Fail<GrantView>(new PortalError("This setup has no CA whose key the portal holds, so nothing could be signed under a grant.", "Generate or import the CA with its key in step 5 first."));
            }

            if (grant is not null && SetupCertificates.CaChanged(issuer, request.IssuerSha1) is { } changed)
            {
                return PortalResult.Fail<GrantView>(changed);
            }

            var actor = Actor.From(caller);
            var now = pipeline.Time.GetUtcNow();
            var created = new IssuanceGrant
            {
                SetupId = setup.Id,
                Name = request.Name,
                Pattern = request.Pattern,
                MaxCount = request.MaxCount,
                // Clamped to the CA: a certificate cannot outlive its issuer, so the grant promises no more than it can give.
                ValidityDays = (int)Math.Max(1, Math.Min(request.ValidityDays, Math.Floor((issuer.NotAfter - now).TotalDays))),
                CreatedAt = now,
                ExpiresAt = now.AddDays(request.ExpiresInDays),
                RequestedById = grant is null ? actor.Id : grant.RequestedById,
                RequestedBy = grant?.RequestedBy ?? actor.Name,
                ApprovedBy = CertificateFacts.ApproversOf(grant),
                ApprovalRequestId = grant?.RequestId,
            };
            db.IssuanceGrants.Add(created);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return PortalResult.Ok(View(created, setup.Name, now));
        }) { Request = request, Grant = grant }, cancellationToken);
    }

    /// <summary>Every grant (optionally of one setup), newest first.</summary>
    public async Task<PortalResult<IReadOnlyList<GrantView>>> ListAsync(ClaimsPrincipal caller, int? setupId = null, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<IReadOnlyList<GrantView>>(PortalError.NotAllowed("see issuance grants"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var grants = await db.IssuanceGrants.AsNoTracking().Where(g => setupId == null || g.SetupId == setupId).OrderByDescending(g => g.Id).Take(500)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var ids = grants.Select(g => g.SetupId).Distinct().ToList();
        var names = await db.Setups.AsNoTracking().Where(s => ids.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Name, cancellationToken).ConfigureAwait(false);
        var now = pipeline.Time.GetUtcNow();
        return PortalResult.Ok<IReadOnlyList<GrantView>>([.. grants.Select(g => View(g, names.GetValueOrDefault(g.SetupId, "?"), now))]);
    }

    /// <summary>One grant with its usage (the most recent certificates signed under it).</summary>
    public async Task<PortalResult<GrantDetails>> GetAsync(ClaimsPrincipal caller, int grantId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<GrantDetails>(PortalError.NotAllowed("see issuance grants"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var grant = await db.IssuanceGrants.AsNoTracking().FirstOrDefaultAsync(g => g.Id == grantId, cancellationToken).ConfigureAwait(false);
        if (grant is null)
        {
            return PortalResult.Fail<GrantDetails>(GrantNotFound);
        }

        var setupName = await db.Setups.AsNoTracking().Where(s => s.Id == grant.SetupId).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false) ?? "?";
        var recent = await db.SetupDevices.AsNoTracking().Where(d => d.GrantId == grantId).OrderByDescending(d => d.Id).Take(RecentDevices)
            .Select(d => new GrantDeviceView(d.Id, d.RegistrationId, d.SerialNumber, d.IssuedAt, d.NotAfter, d.RequestedBy))
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new GrantDetails(View(grant, setupName, pipeline.Time.GetUtcNow()), recent));
    }

    /// <summary>Revokes a grant: requests already committed keep their certificates, every later one is refused.</summary>
    public async Task<PortalResult<GrantView>> RevokeAsync(ClaimsPrincipal caller, int grantId, CancellationToken cancellationToken = default)
    {
        var target = $"grant #{grantId}";
        var actor = await pipeline.RequireChangeAsync(caller, AutomationAuditActions.GrantRevoked, target, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<GrantView>(PortalError.NotAllowed("revoke issuance grants"));
        }

        var now = pipeline.Time.GetUtcNow();
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var changed = await db.IssuanceGrants.Where(g => g.Id == grantId && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedBy, actor.Name), cancellationToken).ConfigureAwait(false);
        ledger.Forget(grantId);
        var grant = await db.IssuanceGrants.AsNoTracking().FirstOrDefaultAsync(g => g.Id == grantId, cancellationToken).ConfigureAwait(false);
        if (grant is null)
        {
            return PortalResult.Fail<GrantView>(GrantNotFound);
        }

        if (changed > 0)
        {
            await pipeline.Audit.WriteAsync(actor, AutomationAuditActions.GrantRevoked, target, AuditOutcomes.Succeeded,
                $"\"{grant.Name}\" after {grant.IssuedCount.ToString(CultureInfo.InvariantCulture)} of {grant.MaxCount.ToString(CultureInfo.InvariantCulture)}", cancellationToken).ConfigureAwait(false);
        }

        var setupName = await db.Setups.AsNoTracking().Where(s => s.Id == grant.SetupId).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false) ?? "?";
        return PortalResult.Ok(View(grant, setupName, now));
    }

    public static PortalError GrantNotFound { get; } = new("There is no such issuance grant.", "Check the grant number; the list of grants is at /grants.", Status: 404);

    public static GrantStatus StatusOf(IssuanceGrant grant, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return grant.RevokedAt is not null ? GrantStatus.Revoked
            : grant.ExpiresAt <= now ? GrantStatus.Expired
            : grant.IssuedCount >= grant.MaxCount ? GrantStatus.UsedUp
            : GrantStatus.Active;
    }

    internal static GrantView View(IssuanceGrant g, string setupName, DateTimeOffset now) => new(g.Id, g.SetupId, setupName, g.Name, g.Pattern, g.MaxCount, g.IssuedCount,
        g.ValidityDays, g.CreatedAt, g.ExpiresAt, g.RequestedBy, g.ApprovedBy, g.ApprovalRequestId, g.RevokedAt, g.RevokedBy, StatusOf(g, now));
}
