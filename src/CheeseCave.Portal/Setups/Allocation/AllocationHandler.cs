using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Portal.Setups.Allocation;

/// <summary>Step 3: the DPS's default allocation policy (evenly weighted, lowest latency or static).</summary>
public sealed class AllocationHandler(SetupPipeline pipeline)
{
    public Task<PortalResult<ProvisioningServiceInfo>> SetAllocationPolicyAsync(ClaimsPrincipal caller, int setupId, DpsAllocationPolicy policy, CancellationToken cancellationToken = default) =>
        pipeline.RunAsync(new SetupChange<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupAllocationPolicy, "change the allocation policy", policy.ToString(), async (setup, arm, _) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return PortalResult.Fail<ProvisioningServiceInfo>(new PortalError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            var dps = await arm.UpdateAllocationPolicyAsync(group, dpsName, policy, cancellationToken).ConfigureAwait(false);
            SetupPipeline.Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 4);
            return PortalResult.Ok<ProvisioningServiceInfo>(dps);
        }), cancellationToken);
}
