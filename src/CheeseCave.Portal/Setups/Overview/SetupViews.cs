using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;

namespace CheeseCave.Portal.Setups.Overview;

/// <summary>A setup as the wizard shows it: each step's state (done, ready, blocked) and a one-line summary.</summary>
public static class SetupViews
{
    public static SetupView View(DpsSetup setup, ProvisioningServiceInfo? dps, PortalError? liveError, bool canChange, int deviceCount)
    {
        var hubs = dps?.LinkedHubs ?? [];
        var policy = dps?.AllocationPolicy ?? SetupNames.ParsePolicy(setup.AllocationPolicy);
        var idScope = dps?.IdScope ?? setup.IdScope;
        var hasDps = setup.DpsName is not null;
        var dpsLive = dps is not null;

        var steps = new List<WizardStepStatus>();
        foreach (var step in WizardStep.All)
        {
            steps.Add(step.Number switch
            {
                1 => dpsLive
                    ? new(step, StepState.Done, $"{dps!.Name} in {dps.Location}")
                    : hasDps ? new(step, StepState.Ready, $"{setup.DpsName} not found") : new(step, StepState.Ready, "No DPS yet"),
                2 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : hubs.Count > 0 ? new(step, StepState.Done, hubs.Count == 1 ? $"1 hub: {hubs[0].HostName}" : $"{hubs.Count} hubs linked")
                    : new(step, StepState.Ready, "No hub linked"),
                3 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : new(step, setup.CurrentStep > 3 ? StepState.Done : StepState.Ready, DescribePolicy(policy)),
                4 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : idScope is not null ? new(step, StepState.Done, $"ID scope {idScope}") : new(step, StepState.Ready, "Waiting for the ID scope"),
                5 => setup.Certificates.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root) is { } root
                    ? new(step, StepState.Done, setup.Certificates.Count > 1 ? "Root and intermediate CA" : $"Root CA {SetupCertificates.ShortName(root.Subject)}")
                    : new(step, StepState.Ready, "No CA yet"),
                6 => SetupCertificates.RootOf(setup) is not { } uploadRoot ? new(step, StepState.Blocked, "Needs a CA")
                    : !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : uploadRoot.DpsCertificateName is { } uploadedName ? new(step, StepState.Done, $"Uploaded as {uploadedName}")
                    : new(step, StepState.Ready, "Not uploaded"),
                7 => SetupCertificates.RootOf(setup) is not { DpsCertificateName: not null } verifyRoot ? new(step, StepState.Blocked, "Needs the uploaded CA")
                    : verifyRoot.IsVerified ? new(step, StepState.Done, "Verified")
                    : new(step, StepState.Ready, "Unverified"),
                8 => SetupCertificates.RootOf(setup) is not { IsVerified: true } ? new(step, StepState.Blocked, "Needs the verified CA")
                    : setup.EnrollmentGroupId is { } groupId ? new(step, StepState.Done, $"Group {groupId}")
                    : new(step, StepState.Ready, "No enrollment group"),
                9 => setup.Certificates.Count == 0 ? new(step, StepState.Blocked, "Needs a CA")
                    : deviceCount > 0 ? new(step, StepState.Done, deviceCount == 1 ? "1 device certificate" : $"{deviceCount} device certificates")
                    : new(step, StepState.Ready, "No device certificates"),
                10 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : setup.LastTestSummary is { } tested ? new(step, StepState.Done, tested)
                    : setup.EnrollmentGroupId is null ? new(step, StepState.Ready, "Enrollment group missing")
                    : new(step, StepState.Ready, "Register a test device"),
                _ => new(step, StepState.Unavailable, "Coming soon"),
            });
        }

        return new SetupView(setup.Id, setup.Name, setup.CurrentStep, setup.CreatedBy, setup.CreatedAt, setup.UpdatedBy, setup.UpdatedAt,
            setup.SubscriptionId, setup.ResourceGroup, setup.DpsName, dps?.Location ?? setup.Location, idScope,
            dps?.ServiceHost ?? setup.ServiceHost, dps?.DeviceHost ?? setup.DeviceHost, policy, hubs, dps, liveError, steps, canChange,
            [.. setup.Certificates.OrderBy(c => c.Kind).ThenBy(c => c.Id).Select(SetupCertificates.ToView)], setup.EnrollmentGroupId);
    }

    public static string DescribePolicy(DpsAllocationPolicy? policy) => policy switch
    {
        DpsAllocationPolicy.Hashed => "Evenly weighted",
        DpsAllocationPolicy.GeoLatency => "Lowest latency",
        DpsAllocationPolicy.Static => "Static",
        _ => "Not set",
    };
}
