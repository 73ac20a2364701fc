using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// Rollover step 1: a new CA generation (a root, and an intermediate below it when asked) generated in-process, its
/// keys straight into the protected key store, and the rollover recorded. Nothing changes for the devices yet: the
/// setup's current root stays the one that signs and that the DPS trusts.
/// </summary>
public sealed class RolloverStartHandler(SetupPipeline pipeline, IKeyStore keys)
{
    public Task<PortalResult<int>> StartRolloverAsync(ClaimsPrincipal caller, int setupId, RolloverStartForm form, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(form);
        return StartAsync(caller, setupId, new StartRolloverPayload(form.RootSubject, form.IntermediateSubject, form.Preset, form.GroupMode, form.GroupMode == RolloverGroupMode.NewGroup ? form.NewGroupId : null), null, cancellationToken);
    }

    /// <summary>The change itself: run at once, recorded as a request, or applied once approved (<paramref name="grant"/>). The rollover's id on success.</summary>
    internal async Task<PortalResult<int>> StartAsync(ClaimsPrincipal caller, int setupId, StartRolloverPayload request, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        if (grant is null && await OpenAsync(setupId, cancellationToken).ConfigureAwait(false))
        {
            // Checked before the gate too: a second rollover is refused, not recorded for approval.
            if (await pipeline.RequireChangeAsync(caller, RolloverAuditActions.Started, $"setup {setupId}", cancellationToken).ConfigureAwait(false) is null)
            {
                return PortalResult.Fail<int>(PortalError.NotAllowed("start a CA rollover"));
            }

            return PortalResult.Fail<int>(AlreadyStarted);
        }

        var detail = $"{request.Preset}: new root \"{request.RootSubject}\"" + (string.IsNullOrWhiteSpace(request.IntermediateSubject) ? "" : $", intermediate \"{request.IntermediateSubject}\"") + $", {request.GroupMode}";
        try
        {
            return await pipeline.RunAsync(new SetupChange<int>(caller, setupId, RolloverAuditActions.Started, "start a CA rollover", detail, async (setup, _, db) =>
            {
                if (await db.CaRollovers.AnyAsync(r => r.SetupId == setup.Id && r.FinishedAt == null, cancellationToken).ConfigureAwait(false))
                {
                    return PortalResult.Fail<int>(AlreadyStarted);
                }

                setup.Certificates = await db.SetupCertificates.Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
                if (request.Problem(setup) is { } problem)
                {
                    return PortalResult.Fail<int>(problem);
                }

                var authority = new Pki.CertificateAuthority(pipeline.Time);
                var actor = Actor.From(caller);
                using var root = authority.CreateRoot(new RootCaRequest(request.RootSubject.Trim()) { Preset = request.Preset });
                var rootEntity = await GeneratedCaRecords.StoreAsync(keys, pipeline.Time, db, setup, SetupCertificateKind.Root, root, actor, grant, cancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrWhiteSpace(request.IntermediateSubject))
                {
                    using var credential = root.ToCaCredential();
                    using var intermediate = authority.CreateIntermediate(new IntermediateCaRequest(request.IntermediateSubject.Trim()) { Preset = request.Preset }, credential);
                    await GeneratedCaRecords.StoreAsync(keys, pipeline.Time, db, setup, SetupCertificateKind.Intermediate, intermediate, actor, grant, cancellationToken).ConfigureAwait(false);
                }

                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                var rollover = Open(setup, rootEntity, request.GroupMode, request.NewGroupId, grant?.RequestedBy ?? actor.Name, pipeline.Time.GetUtcNow());
                db.CaRollovers.Add(rollover);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                return PortalResult.Ok(rollover.Id);
            }) { Request = request, Grant = grant }, cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException)
        {
            // Two starts raced; the database's one-open-rollover index let one through.
            if (await OpenAsync(setupId, cancellationToken).ConfigureAwait(false))
            {
                return PortalResult.Fail<int>(AlreadyStarted);
            }

            throw;
        }
    }

    /// <summary>A new open rollover of <paramref name="setup"/> (its current root the old one) to <paramref name="newRoot"/>.</summary>
    internal static CaRollover Open(DpsSetup setup, SetupCertificate newRoot, RolloverGroupMode groupMode, string? newGroupId, string startedBy, DateTimeOffset now) => new()
    {
        SetupId = setup.Id,
        StartedBy = startedBy,
        StartedAt = now,
        UpdatedAt = now,
        Stage = RolloverStage.CaCreated,
        GroupMode = groupMode,
        OldRootId = SetupCertificates.RootOf(setup)!.Id,
        NewRootId = newRoot.Id,
        OldGroupId = setup.EnrollmentGroupId!,
        NewGroupId = groupMode == RolloverGroupMode.NewGroup ? newGroupId?.Trim() : null,
    };

    private static PortalError AlreadyStarted { get; } = new("A rollover of this setup is already under way.", "Continue it on the rollover page; a new one can start once its old CA is retired.");

    private async Task<bool> OpenAsync(int setupId, CancellationToken cancellationToken)
    {
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.CaRollovers.AnyAsync(r => r.SetupId == setupId && r.FinishedAt == null, cancellationToken).ConfigureAwait(false);
    }
}
