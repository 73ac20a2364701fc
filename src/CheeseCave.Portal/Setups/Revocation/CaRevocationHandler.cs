using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.DpsService;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Revocation;

/// <summary>
/// Revokes a whole CA: every enrollment group that trusts it (caReferences) is disabled, the CA's certificate is
/// deleted from the DPS, and the CA is marked retired. Before that, <see cref="ImpactAsync"/> says plainly what it
/// shuts out: which groups, and how many devices the CA signed that are still active.
/// </summary>
public sealed class CaRevocationHandler(SetupPipeline pipeline)
{
    /// <summary>What revoking the CA would shut out (the groups read live from DPS). Viewer.</summary>
    public async Task<PortalResult<CaRevocationImpact>> ImpactAsync(ClaimsPrincipal caller, int certificateId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<CaRevocationImpact>(PortalError.NotAllowed("see certificates"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var ca = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId, cancellationToken).ConfigureAwait(false);
        var setup = ca is null ? null : await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == ca.SetupId, cancellationToken).ConfigureAwait(false);
        if (ca is null || setup is null)
        {
            return PortalResult.Fail<CaRevocationImpact>(CaNotFound);
        }

        var groups = await pipeline.ReadAsync(caller, async arm =>
        {
            if (setup.DpsName is null || setup.ResourceGroup is null || ca.DpsCertificateName is null)
            {
                return (IReadOnlyList<string>)[];
            }

            using var service = await pipeline.DpsServiceAsync(caller, arm, setup.ResourceGroup, setup.DpsName, cancellationToken).ConfigureAwait(false);
            return await TrustingGroupsAsync(service, ca.DpsCertificateName, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (groups.Error is { } error)
        {
            return PortalResult.Fail<CaRevocationImpact>(error);
        }

        var devices = await ActiveDevicesAsync(db, setup, ca, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new CaRevocationImpact(ca.Id, ca.Subject, ca.DpsCertificateName, groups.Value!, devices, Warning(ca, groups.Value!, devices)));
    }

    /// <summary>Revokes the CA, or records the request (with the warning the requester saw) when approvals are on. Operator.</summary>
    public async Task<PortalResult<CaRevocationView>> RevokeCaAsync(ClaimsPrincipal caller, int certificateId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireChangeAsync(caller, LifecycleAuditActions.CaRevoked, $"CA certificate {certificateId}", cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<CaRevocationView>(PortalError.NotAllowed("revoke a CA"));
        }

        var impact = await ImpactAsync(caller, certificateId, cancellationToken).ConfigureAwait(false);
        if (impact.Value is not { } seen)
        {
            return PortalResult.Fail<CaRevocationView>(impact.Error!);
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var ca = await db.SetupCertificates.AsNoTracking().FirstAsync(c => c.Id == certificateId, cancellationToken).ConfigureAwait(false);
        return await RevokeAsync(caller, ca.SetupId, new RevokeCaPayload(ca.Id, ca.ThumbprintSha1, seen.Warning), null, cancellationToken).ConfigureAwait(false);
    }

    internal Task<PortalResult<CaRevocationView>> RevokeAsync(ClaimsPrincipal caller, int setupId, RevokeCaPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<CaRevocationView>(caller, setupId, LifecycleAuditActions.CaRevoked, "revoke a CA", $"CA #{request.CertificateId} ({request.ThumbprintSha1})", async (setup, arm, db) =>
        {
            var ca = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == request.CertificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
            if (ca is null)
            {
                return PortalResult.Fail<CaRevocationView>(CaNotFound);
            }

            if (ca.RetiredAt is not null)
            {
                return PortalResult.Fail<CaRevocationView>(new PortalError($"The CA '{SetupCertificates.ShortName(ca.Subject)}' is already retired (by {ca.RetiredBy}).", "Nothing to do.", Status: 409));
            }

            if (SetupCertificates.CaChanged(ca, request.ThumbprintSha1) is { } changed)
            {
                return PortalResult.Fail<CaRevocationView>(changed);
            }

            var disabled = new List<string>();
            var deleted = false;
            if (setup.DpsName is not null && setup.ResourceGroup is not null && ca.DpsCertificateName is not null)
            {
                // Groups first: once they are disabled nothing registers through this CA, whatever happens next.
                using var service = await pipeline.DpsServiceAsync(caller, arm, setup.ResourceGroup, setup.DpsName, cancellationToken).ConfigureAwait(false);
                foreach (var group in await TrustingGroupsAsync(service, ca.DpsCertificateName, cancellationToken).ConfigureAwait(false))
                {
                    await service.UpdateEnrollmentGroupAsync(group, g => g.ProvisioningStatus = ProvisioningStatus.Disabled, cancellationToken).ConfigureAwait(false);
                    disabled.Add(group);
                }

                deleted = await arm.DeleteCertificateAsync(setup.ResourceGroup, setup.DpsName, ca.DpsCertificateName, cancellationToken).ConfigureAwait(false);
            }

            ca.RetiredAt = pipeline.Time.GetUtcNow();
            ca.RetiredBy = grant?.RequestedBy ?? Actor.From(caller).Name;
            var name = SetupCertificates.ShortName(ca.Subject);
            return PortalResult.Ok(new CaRevocationView(ca.Id, ca.Subject, disabled, deleted,
                $"The CA '{name}' is retired: {(disabled.Count == 0 ? "no enrollment group trusted it" : $"group(s) {string.Join(", ", disabled)} disabled")}{(deleted ? $", its DPS certificate '{ca.DpsCertificateName}' deleted" : "")}."));
        }) { Request = request, Grant = grant }, cancellationToken);

    private static async Task<IReadOnlyList<string>> TrustingGroupsAsync(DpsServiceClient service, string dpsCertificateName, CancellationToken cancellationToken)
    {
        var groups = new List<string>();
        await foreach (var group in service.QueryEnrollmentGroupsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var references = group.Attestation?.X509?.CaReferences;
            if (string.Equals(references?.Primary, dpsCertificateName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(references?.Secondary, dpsCertificateName, StringComparison.OrdinalIgnoreCase))
            {
                groups.Add(group.EnrollmentGroupId);
            }
        }

        return groups;
    }

    /// <summary>Devices this CA signed (all of the setup's for its root) that still work: not revoked, not superseded, not expired.</summary>
    private async Task<int> ActiveDevicesAsync(PortalDbContext db, DpsSetup setup, SetupCertificate ca, CancellationToken cancellationToken)
    {
        var now = pipeline.Time.GetUtcNow();
        var devices = await db.SetupDevices.AsNoTracking()
            .Where(d => d.SetupId == setup.Id && d.RevokedAt == null && d.SupersededByDeviceId == null)
            .Select(d => new { d.Issuer, d.NotAfter }).ToListAsync(cancellationToken).ConfigureAwait(false);
        var isRoot = ca.Kind == SetupCertificateKind.Root;
        return devices.Count(d => d.NotAfter > now && (isRoot || string.Equals(d.Issuer, ca.Subject, StringComparison.Ordinal)));
    }

    private static string Warning(SetupCertificate ca, IReadOnlyList<string> groups, int devices)
    {
        var name = SetupCertificates.ShortName(ca.Subject);
        var count = devices.ToString(CultureInfo.InvariantCulture);
        return groups.Count == 0
            ? $"No enrollment group trusts '{name}' now. Its {count} active device certificate(s) stop registering once its DPS certificate is deleted; this cannot be undone (a new CA must be uploaded and proven)."
            : $"Enrollment group(s) {string.Join(", ", groups)} will be disabled: no device of {(groups.Count == 1 ? "that group" : "those groups")} can register any more, including the {count} active device certificate(s) '{name}' signed. The DPS certificate is deleted; this cannot be undone.";
    }

    public static PortalError CaNotFound { get; } = new("This CA certificate does not exist (any more).", "Go back to the certificate list and open it from there.", Status: 404);
}
