using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Portal.Setups.Hubs;

/// <summary>Step 2: IoT hubs: list, create (with ARM's progress) and link to the setup's DPS through a policy with RegistryWrite and ServiceConnect.</summary>
public sealed class HubsHandler(SetupPipeline pipeline)
{
    public Task<PortalResult<IReadOnlyList<IotHubInfo>>> ListHubsAsync(ClaimsPrincipal caller, string resourceGroup, CancellationToken cancellationToken = default) =>
        pipeline.ReadAsync(caller, arm => arm.ListIotHubsAsync(resourceGroup, cancellationToken), cancellationToken);

    /// <summary>Only the policies with RegistryWrite and ServiceConnect, iothubowner first. Keys are dropped here.</summary>
    public Task<PortalResult<IReadOnlyList<HubPolicyChoice>>> ListHubPoliciesAsync(ClaimsPrincipal caller, string resourceGroup, string hubName, CancellationToken cancellationToken = default) =>
        pipeline.ReadAsync<IReadOnlyList<HubPolicyChoice>>(caller, async arm =>
        {
            var policies = await arm.ListIotHubProvisioningPoliciesAsync(resourceGroup, hubName, cancellationToken).ConfigureAwait(false);
            return [.. policies.Select(p => new HubPolicyChoice(p.KeyName, p.Rights))];
        }, cancellationToken);

    public Task<PortalResult<IotHubInfo>> CreateHubAsync(ClaimsPrincipal caller, int setupId, string name, string location, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        pipeline.RunAsync(new SetupChange<IotHubInfo>(caller, setupId, AuditActions.SetupHubCreated, "create an IoT hub", $"{name} in {location}", async (setup, arm, _) =>
        {
            var rules = SetupNames.CheckHubName(name);
            if (!rules.IsValid)
            {
                return PortalResult.Fail<IotHubInfo>(new PortalError(rules.Problem!, "Correct the name and try again."));
            }

            if (setup.ResourceGroup is not { } group)
            {
                return PortalResult.Fail<IotHubInfo>(new PortalError("This setup has no resource group yet.", "Finish step 1 first."));
            }

            progress?.Report("Submitting");
            var operation = await arm.StartCreateIotHubAsync(new IotHubCreateOptions(group, name, location), cancellationToken).ConfigureAwait(false);
            while (!await operation.UpdateStatusAsync(cancellationToken).ConfigureAwait(false))
            {
                progress?.Report(operation.StatusText);
                await Task.Delay(pipeline.PollInterval, pipeline.Time, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(operation.StatusText);
            var hub = operation.Value ?? await arm.GetIotHubAsync(group, name, cancellationToken).ConfigureAwait(false)
                ?? throw new ProvisioningException($"Could not read IoT hub '{name}' after creating it.");
            return PortalResult.Ok<IotHubInfo>(hub);
        }), cancellationToken);

    /// <summary>Links a hub to the setup's DPS with the chosen policy's connection string (read and used on the server only).</summary>
    public Task<PortalResult<ProvisioningServiceInfo>> LinkHubAsync(ClaimsPrincipal caller, int setupId, string hubName, string policyName, int allocationWeight, bool applyAllocationPolicy, CancellationToken cancellationToken = default) =>
        pipeline.RunAsync(new SetupChange<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupHubLinked, "link IoT hubs", $"{hubName} via {policyName}, weight {allocationWeight}, apply {applyAllocationPolicy}", async (setup, arm, _) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            if (allocationWeight is < 1 or > 1000)
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError("The allocation weight is between 1 and 1000.", "Correct the weight and try again."));
            }

            var usable = await arm.ListIotHubProvisioningPoliciesAsync(group, hubName, cancellationToken).ConfigureAwait(false);
            if (!usable.Any(p => p.KeyName.Equals(policyName, StringComparison.OrdinalIgnoreCase)))
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError($"The policy '{policyName}' of hub '{hubName}' lacks RegistryWrite or ServiceConnect, which DPS needs.", "Pick iothubowner or another policy with both rights."));
            }

            var hub = await arm.GetIotHubAsync(group, hubName, cancellationToken).ConfigureAwait(false)
                ?? throw new ProvisioningException($"Could not read IoT hub '{hubName}': it does not exist in '{group}'.");
            var connectionString = await arm.GetIotHubConnectionStringAsync(group, hubName, policyName, cancellationToken).ConfigureAwait(false);
            var dps = await arm.LinkIotHubAsync(group, dpsName, new LinkIotHubOptions(connectionString, hub.Location)
            {
                AllocationWeight = allocationWeight,
                ApplyAllocationPolicy = applyAllocationPolicy,
            }, cancellationToken).ConfigureAwait(false);
            SetupPipeline.Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 3);
            return PortalResult.Ok<ProvisioningServiceInfo>(dps);
        }), cancellationToken);
}
