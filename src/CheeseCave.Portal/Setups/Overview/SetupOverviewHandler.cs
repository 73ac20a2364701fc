using System.Security.Claims;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Overview;

/// <summary>
/// The list of setups, creating one, reading one with its DPS (live from Azure) and every step's status, and
/// remembering the step a user is on. Reading needs Viewer; changes need Operator (re-checked in the database).
/// </summary>
public sealed class SetupOverviewHandler(SetupPipeline pipeline)
{
    public async Task<IReadOnlyList<SetupSummary>> ListAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        _ = await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false)
            ?? throw new UnauthorizedAccessException("Only signed-in users with at least the Viewer role can see setups.");
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setups = await db.Setups.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. setups.OrderByDescending(s => s.UpdatedAt).Select(SetupNames.Summarize)];
    }

    public async Task<PortalResult<SetupSummary>> CreateAsync(ClaimsPrincipal caller, string name, CancellationToken cancellationToken = default)
    {
        var actor = await pipeline.RequireChangeAsync(caller, AuditActions.SetupCreated, name, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<SetupSummary>(PortalError.NotAllowed("create setups"));
        }

        var check = SetupNames.CheckSetupName(name);
        if (!check.IsValid)
        {
            return PortalResult.Fail<SetupSummary>(new PortalError(check.Problem!, "Enter a name and try again."));
        }

        name = name.Trim();
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (await db.Setups.AnyAsync(s => s.Name == name, cancellationToken).ConfigureAwait(false))
        {
            return PortalResult.Fail<SetupSummary>(new PortalError($"A setup named \"{name}\" already exists.", "Open that one from the list, or choose another name."));
        }

        var now = pipeline.Time.GetUtcNow();
        string? subscriptionId = null;
        string? resourceGroup = null;
        try
        {
            var connection = pipeline.Provisioning.GetConnection(caller);
            (subscriptionId, resourceGroup) = (connection.SubscriptionId, connection.DefaultResourceGroup);
        }
        catch (ProvisioningException)
        {
            // The emulator is still starting: step 1 asks for the resource group anyway.
        }

        var setup = new DpsSetup
        {
            Name = name,
            CreatedBy = actor.Name,
            CreatedAt = now,
            UpdatedBy = actor.Name,
            UpdatedAt = now,
            CurrentStep = 1,
            SubscriptionId = subscriptionId,
            ResourceGroup = resourceGroup,
        };
        db.Setups.Add(setup);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await pipeline.Audit.WriteAsync(actor, AuditActions.SetupCreated, SetupPipeline.Target(setup), AuditOutcomes.Succeeded, cancellationToken: cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok<SetupSummary>(SetupNames.Summarize(setup));
    }

    /// <summary>The setup with its DPS read live from Azure (when it has one) and every step's status.</summary>
    public async Task<PortalResult<SetupView>> GetAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        var actor = await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<SetupView>(PortalError.NotAllowed("see setups"));
        }

        var canChange = await pipeline.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().Include(s => s.Certificates).FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<SetupView>(PortalError.NotFound);
        }

        ProvisioningServiceInfo? dps = null;
        PortalError? liveError = null;
        if (setup is { ResourceGroup: { } group, DpsName: { } dpsName })
        {
            try
            {
                dps = await pipeline.Provisioning.CreateArmClient(caller).GetProvisioningServiceAsync(group, dpsName, cancellationToken).ConfigureAwait(false);
                if (dps is null)
                {
                    liveError = new PortalError($"The DPS '{dpsName}' no longer exists in resource group '{group}'.", "Create it again or pick another one in step 1.");
                }
            }
            catch (ProvisioningException ex)
            {
                liveError = PortalError.From(ex);
            }
        }

        var devices = await db.SetupDevices.CountAsync(d => d.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok<SetupView>(SetupViews.View(setup, dps, liveError, canChange, devices));
    }

    /// <summary>Remembers the step the user is on, so reopening the setup resumes there.</summary>
    public async Task<PortalResult<bool>> SetCurrentStepAsync(ClaimsPrincipal caller, int setupId, int step, CancellationToken cancellationToken = default)
    {
        if (step < 1 || step > WizardStep.All.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "There are ten steps.");
        }

        var actor = await pipeline.RequireChangeAsync(caller, AuditActions.SetupStepChanged, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<bool>(PortalError.NotAllowed("move through the wizard"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<bool>(PortalError.NotFound);
        }

        if (setup.CurrentStep == step)
        {
            return PortalResult.Ok(false);
        }

        var from = setup.CurrentStep;
        setup.CurrentStep = step;
        setup.UpdatedBy = actor.Name;
        setup.UpdatedAt = pipeline.Time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await pipeline.Audit.WriteAsync(actor, AuditActions.SetupStepChanged, SetupPipeline.Target(setup), AuditOutcomes.Succeeded, $"step {from} → {step}", cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(true);
    }
}
