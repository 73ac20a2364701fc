using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Portal.Setups.Dps;

/// <summary>Step 1: pick or create the DPS (Device Provisioning Service) of a setup, with ARM's progress while it is created.</summary>
public sealed class DpsHandler(SetupPipeline pipeline)
{
    public Task<PortalResult<IReadOnlyList<ResourceGroupInfo>>> ListResourceGroupsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default) =>
        pipeline.ReadAsync(caller, arm => arm.ListResourceGroupsAsync(cancellationToken), cancellationToken);

    public Task<PortalResult<IReadOnlyList<ProvisioningServiceInfo>>> ListProvisioningServicesAsync(ClaimsPrincipal caller, string resourceGroup, CancellationToken cancellationToken = default) =>
        pipeline.ReadAsync(caller, arm => arm.ListProvisioningServicesAsync(resourceGroup, cancellationToken), cancellationToken);

    /// <summary>The name rules first, then whether the (global) name is still free.</summary>
    public async Task<PortalResult<NameCheck>> CheckDpsNameAsync(ClaimsPrincipal caller, string name, CancellationToken cancellationToken = default)
    {
        var rules = SetupNames.CheckDpsName(name);
        if (!rules.IsValid)
        {
            return PortalResult.Ok<NameCheck>(rules);
        }

        return await pipeline.ReadAsync<NameCheck>(caller, async arm =>
        {
            var availability = await arm.CheckProvisioningServiceNameAvailabilityAsync(name, cancellationToken).ConfigureAwait(false);
            return availability.IsAvailable
                ? new NameCheck(true, null)
                : new NameCheck(false, availability.Message ?? $"The name '{name}' is taken ({availability.Reason ?? "unavailable"}). DPS names are global; try another.");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a DPS and makes it this setup's, reporting ARM's status text while it runs.</summary>
    public Task<PortalResult<ProvisioningServiceInfo>> CreateDpsAsync(ClaimsPrincipal caller, int setupId, string resourceGroup, string name, string location, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        pipeline.RunAsync(new SetupChange<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupDpsCreated, "create a DPS", $"{resourceGroup}/{name} in {location}", async (setup, arm, _) =>
        {
            var rules = SetupNames.CheckDpsName(name);
            if (!rules.IsValid)
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError(rules.Problem!, "Correct the name and try again."));
            }

            if (string.IsNullOrWhiteSpace(location))
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError("A location is required.", "Pick the Azure region closest to your devices."));
            }

            progress?.Report("Checking the name");
            var availability = await arm.CheckProvisioningServiceNameAvailabilityAsync(name, cancellationToken).ConfigureAwait(false);
            if (!availability.IsAvailable)
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError(availability.Message ?? $"The name '{name}' is taken.", "DPS names are global: choose another name, or pick the existing DPS if it is yours."));
            }

            progress?.Report("Submitting");
            var operation = await arm.StartCreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(resourceGroup, name, location), cancellationToken).ConfigureAwait(false);
            progress?.Report(operation.StatusText);
            while (!await operation.UpdateStatusAsync(cancellationToken).ConfigureAwait(false))
            {
                progress?.Report(operation.StatusText);
                await Task.Delay(pipeline.PollInterval, pipeline.Time, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(operation.StatusText);
            // Azure gives the ID scope only once the operation has succeeded (the create answer has idScope null):
            // read the DPS back if the final answer still lacks it.
            var dps = operation.Value is { IdScope: not null } done ? done : await arm.GetProvisioningServiceAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false)
                ?? throw new ProvisioningException($"Could not read DPS '{name}' after creating it.");
            SetupPipeline.Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 2);
            return PortalResult.Ok<ProvisioningServiceInfo>(dps);
        }), cancellationToken);

    /// <summary>Makes an existing DPS this setup's.</summary>
    public Task<PortalResult<ProvisioningServiceInfo>> SelectDpsAsync(ClaimsPrincipal caller, int setupId, string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        pipeline.RunAsync(new SetupChange<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupDpsSelected, "pick a DPS", $"{resourceGroup}/{name}", async (setup, arm, _) =>
        {
            var dps = await arm.GetProvisioningServiceAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
            if (dps is null)
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError($"There is no DPS '{name}' in resource group '{resourceGroup}'.", "Refresh the list and pick another, or create one."));
            }

            SetupPipeline.Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 2);
            return PortalResult.Ok<ProvisioningServiceInfo>(dps);
        }), cancellationToken);
}
