using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Enrollment;

/// <summary>Step 8: the setup's X.509 enrollment group in its DPS: read live, saved, deleted.</summary>
public sealed class EnrollmentHandler(SetupPipeline pipeline)
{
    /// <summary>The setup's enrollment group as DPS reports it now, or null when step 8 has not saved one yet.</summary>
    public async Task<PortalResult<EnrollmentGroupView?>> GetEnrollmentGroupAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<EnrollmentGroupView?>(PortalError.NotAllowed("read setups"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<EnrollmentGroupView?>(PortalError.NotFound);
        }

        if (setup is not { EnrollmentGroupId: { } groupId, ResourceGroup: { } group, DpsName: { } dpsName })
        {
            return PortalResult.Ok<EnrollmentGroupView?>(null);
        }

        try
        {
            using var service = await pipeline.DpsServiceAsync(caller, pipeline.Provisioning.CreateArmClient(caller), group, dpsName, cancellationToken).ConfigureAwait(false);
            var live = await service.GetEnrollmentGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
            return live is null
                ? PortalResult.Fail<EnrollmentGroupView?>(new PortalError($"The enrollment group '{groupId}' no longer exists in the DPS.", "Save it again in step 8."))
                : PortalResult.Ok<EnrollmentGroupView?>(EnrollmentGroupView.From(live));
        }
        catch (ProvisioningException ex)
        {
            return PortalResult.Fail<EnrollmentGroupView?>(PortalError.From(ex));
        }
    }

    /// <summary>
    /// Creates or updates the setup's X.509 enrollment group (the client reads the etag fresh) after checking the id,
    /// the CA (a verified certificate of this setup), the hubs (linked to its DPS) and the initial twin JSON.
    /// </summary>
    public async Task<PortalResult<EnrollmentGroupView>> SaveEnrollmentGroupAsync(ClaimsPrincipal caller, int setupId, EnrollmentGroupForm form, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(form);
        return await SaveAsync(caller, setupId, new SaveEnrollmentGroupPayload(EnrollmentGroupForm.CopyOf(form)), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The change itself: run at once, recorded as a request, or applied once approved (<paramref name="grant"/>).</summary>
    internal Task<PortalResult<EnrollmentGroupView>> SaveAsync(ClaimsPrincipal caller, int setupId, SaveEnrollmentGroupPayload request, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var form = request.Form;
        return pipeline.RunAsync(new SetupChange<EnrollmentGroupView>(caller, setupId, AuditActions.SetupEnrollmentGroupSaved, "save the enrollment group", $"{form.GroupId} (CA {form.PrimaryCa}, {form.AllocationPolicy}, {(form.Enabled ? "enabled" : "disabled")})", async (setup, arm, db) =>
        {
            static PortalResult<EnrollmentGroupView> Invalid(string problem, string whatToDo) => PortalResult.Fail<EnrollmentGroupView>(new PortalError(problem, whatToDo));

            var id = form.GroupId?.Trim() ?? "";
            var idCheck = EnrollmentRules.CheckGroupId(id);
            if (!idCheck.IsValid)
            {
                return Invalid(idCheck.Problem!, "Correct the enrollment group id and try again.");
            }

            var (tags, tagsProblem) = EnrollmentRules.ParseTwinObject(form.TagsJson, "tags");
            if (tagsProblem is not null)
            {
                return Invalid(tagsProblem, "Fix the tags JSON (or empty the field) and try again.");
            }

            var (desired, desiredProblem) = EnrollmentRules.ParseTwinObject(form.DesiredJson, "desired properties");
            if (desiredProblem is not null)
            {
                return Invalid(desiredProblem, "Fix the desired properties JSON (or empty the field) and try again.");
            }

            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return Invalid("This setup has no DPS yet.", "Finish step 1 first.");
            }

            var verified = await db.SetupCertificates.AsNoTracking()
                .Where(c => c.SetupId == setup.Id && c.IsVerified && c.DpsCertificateName != null)
                .Select(c => c.DpsCertificateName!).ToListAsync(cancellationToken).ConfigureAwait(false);
            if (verified.Count == 0)
            {
                return Invalid("This setup has no verified CA in its DPS yet.", "Upload the CA in step 6 and verify it in step 7 first.");
            }

            if (!verified.Contains(form.PrimaryCa, StringComparer.Ordinal))
            {
                return Invalid($"'{form.PrimaryCa}' is not a verified CA of this setup.", "Pick the primary CA from the list.");
            }

            var secondary = string.IsNullOrWhiteSpace(form.SecondaryCa) ? null : form.SecondaryCa;
            if (secondary is not null && (!verified.Contains(secondary, StringComparer.Ordinal) || secondary == form.PrimaryCa))
            {
                return Invalid($"'{secondary}' cannot be the secondary CA.", "Pick another verified CA than the primary, or none.");
            }

            var dps = await arm.GetProvisioningServiceAsync(group, dpsName, cancellationToken).ConfigureAwait(false);
            if (dps is null)
            {
                return Invalid($"The DPS '{dpsName}' no longer exists.", "Create it again or pick another one in step 1.");
            }

            var linked = dps.LinkedHubs.Select(h => h.HostName).ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (linked.Count == 0)
            {
                return Invalid("The DPS has no linked IoT hub, so devices would have nowhere to go.", "Link a hub in step 2 first.");
            }

            var unknown = form.Hubs.Where(h => !linked.Contains(h)).ToList();
            if (unknown.Count > 0)
            {
                return Invalid($"Not linked to this DPS: {string.Join(", ", unknown)}.", "Pick hubs from the list of linked hubs (step 2 links more).");
            }

            if (form.AllocationPolicy == CheeseCave.Provisioning.DpsService.AllocationPolicy.Custom)
            {
                return Invalid("Custom allocation (an Azure Function) is not set up by the wizard.", "Choose evenly weighted, lowest latency or static.");
            }

            if (form.AllocationPolicy == CheeseCave.Provisioning.DpsService.AllocationPolicy.Static && form.Hubs.Count != 1)
            {
                return Invalid("Static allocation needs exactly one hub.", "Pick the one hub every device of the group goes to.");
            }

            var enrollment = new CheeseCave.Provisioning.DpsService.EnrollmentGroup
            {
                EnrollmentGroupId = id,
                Attestation = CheeseCave.Provisioning.DpsService.AttestationMechanism.FromCaReferences(form.PrimaryCa, secondary),
                Capabilities = new CheeseCave.Provisioning.DpsService.DeviceCapabilities { IotEdge = form.IotEdge },
                IotHubs = form.Hubs.Count == 0 ? null : [.. form.Hubs],
                AllocationPolicy = form.AllocationPolicy,
                ReprovisionPolicy = form.Reprovision switch
                {
                    ReprovisionChoice.NeverReassign => new() { UpdateHubAssignment = false, MigrateDeviceData = false },
                    ReprovisionChoice.ReassignAndReset => new() { UpdateHubAssignment = true, MigrateDeviceData = false },
                    _ => new() { UpdateHubAssignment = true, MigrateDeviceData = true },
                },
                InitialTwin = tags is null && desired is null ? null : new()
                {
                    Tags = tags,
                    Properties = desired is null ? null : new() { Desired = desired },
                },
                ProvisioningStatus = form.Enabled ? CheeseCave.Provisioning.DpsService.ProvisioningStatus.Enabled : CheeseCave.Provisioning.DpsService.ProvisioningStatus.Disabled,
            };

            using var service = await pipeline.DpsServiceAsync(caller, arm, group, dpsName, cancellationToken).ConfigureAwait(false);
            var saved = await service.CreateOrUpdateEnrollmentGroupAsync(enrollment, cancellationToken).ConfigureAwait(false);
            setup.EnrollmentGroupId = saved.EnrollmentGroupId;
            setup.CurrentStep = Math.Max(setup.CurrentStep, 9);
            return PortalResult.Ok(EnrollmentGroupView.From(saved));
        }) { Request = request, Grant = grant }, cancellationToken);
    }

    /// <summary>Deletes the setup's enrollment group from its DPS (devices of the group can no longer register).</summary>
    public async Task<PortalResult<bool>> DeleteEnrollmentGroupAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        await DeleteAsync(caller, setupId, new DeleteEnrollmentGroupPayload(""), null, cancellationToken).ConfigureAwait(false);

    /// <summary>The change itself; once approved (<paramref name="grant"/>) only the group the approvers saw is deleted.</summary>
    internal Task<PortalResult<bool>> DeleteAsync(ClaimsPrincipal caller, int setupId, DeleteEnrollmentGroupPayload request, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var expectedGroupId = grant is null ? null : request.GroupId;
        return pipeline.RunAsync(new SetupChange<bool>(caller, setupId, ApprovalAuditActions.EnrollmentGroupDeleted, "delete the enrollment group", expectedGroupId ?? "enrollment group", async (setup, arm, _) =>
        {
            if (setup is not { EnrollmentGroupId: { } groupId, ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return PortalResult.Fail<bool>(new PortalError("This setup has no enrollment group.", "Nothing to delete."));
            }

            if (expectedGroupId is not null && !string.Equals(groupId, expectedGroupId, StringComparison.OrdinalIgnoreCase))
            {
                return PortalResult.Fail<bool>(new PortalError($"The setup's enrollment group is now '{groupId}', not '{expectedGroupId}' as requested.", "Make a new request for the current group."));
            }

            using var service = await pipeline.DpsServiceAsync(caller, arm, group, dpsName, cancellationToken).ConfigureAwait(false);
            await service.DeleteEnrollmentGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
            setup.EnrollmentGroupId = null;
            return PortalResult.Ok(true);
        }) { Request = request, Grant = grant }, cancellationToken);
    }
}
