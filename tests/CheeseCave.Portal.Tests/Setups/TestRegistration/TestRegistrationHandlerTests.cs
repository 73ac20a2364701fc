using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.TestRegistration;

/// <summary>Step 10: a simulated device registers against the embedded emulator; refusals come back diagnosed.</summary>
public sealed class TestRegistrationHandlerTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task An_issued_device_registers_and_a_leaf_only_device_is_refused_with_the_diagnosis()
    {
        await factory.CreateUserAsync("tr-op", PortalRoles.Operator);
        await factory.CreateUserAsync("tr-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("tr-op");
        var viewer = await factory.PrincipalForAsync("tr-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "trcave", intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;

        // Without an enrollment group DPS refuses, and the page says to create one.
        var throwaway = await wizard.Testing.TestRegistrationAsync(op, id, null, DeviceTransport.Https);
        Assert.True(throwaway.Succeeded, throwaway.Error?.Message);
        Assert.False(throwaway.Value!.Assigned);
        Assert.StartsWith("trcave-test-", throwaway.Value.RegistrationId, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(throwaway.Value.WhatToDo));
        Assert.Equal(StepState.Ready, Step10(await wizard.Setups.GetAsync(op, id)).State); // a refusal proves nothing

        var saved = await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "trcave-devices", PrimaryCa = view.Root!.DpsCertificateName! });
        Assert.True(saved.Succeeded, saved.Error?.Message);
        var batch = (await wizard.Devices.IssueDevicesAsync(op, id, ["trcave-001"])).Value!;
        var device = batch.Devices.Single();

        Assert.False((await wizard.Testing.TestRegistrationAsync(viewer, id, device.Id, DeviceTransport.Https)).Succeeded); // Viewer refused

        var steps = new List<string>();
        var assigned = await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Https, progress: new Sink(steps));
        Assert.True(assigned.Succeeded, assigned.Error?.Message);
        Assert.True(assigned.Value!.Assigned, $"{assigned.Value.ErrorCode} {assigned.Value.ErrorMessage} {assigned.Value.Reason}");
        Assert.Equal(view.LinkedHubs.Single().HostName, assigned.Value.AssignedHub);
        Assert.Equal("trcave-001", assigned.Value.DeviceId);
        Assert.NotNull(assigned.Value.Substatus);
        Assert.NotEmpty(steps);

        // Then the device goes on to its hub: connects, sends one cave reading, reads its twin, each one line.
        var hub = assigned.Value.Hub;
        Assert.NotNull(hub);
        Assert.True(hub.Succeeded, string.Join(" | ", hub.Lines.Select(l => $"{l.Step} {l.State} {l.Detail} {l.WhatToDo}")));
        Assert.Equal([HubCheckStep.Connect, HubCheckStep.Telemetry, HubCheckStep.Twin], hub.Lines.Select(l => l.Step));
        Assert.Equal(assigned.Value.AssignedHub, hub.HubHost);
        var reading = System.Text.Json.Nodes.JsonNode.Parse(hub.Lines[1].Json!)!;
        Assert.InRange(reading["temperature"]!.GetValue<double>(), 10, 14);
        Assert.InRange(reading["humidity"]!.GetValue<double>(), 85, 98);
        Assert.Contains("cave=trcave", hub.Lines[1].Detail, StringComparison.Ordinal);
        Assert.Contains("\"desired\"", hub.Lines[2].Json, StringComparison.Ordinal);
        Assert.Contains(steps, s => s.StartsWith("Connecting to", StringComparison.Ordinal));
        Assert.Contains("Sending one cave reading", steps);
        Assert.Contains("Reading the device twin", steps);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "tr-op" && a.Action == TestRegistrationAuditActions.HubCheck && a.Outcome == AuditOutcomes.Succeeded)));
        var done = Step10(await wizard.Setups.GetAsync(viewer, id));
        Assert.Equal(StepState.Done, done.State);
        Assert.Contains($"trcave-001 → {assigned.Value.AssignedHub}", done.Summary, StringComparison.Ordinal);

        // The same device again over MQTT (the embedded emulator listens for MQTT too).
        var mqtt = await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Mqtt);
        Assert.True(mqtt.Succeeded, mqtt.Error?.Message);
        Assert.True(mqtt.Value!.Assigned, $"{mqtt.Value.ErrorCode} {mqtt.Value.ErrorMessage} {mqtt.Value.Reason}");
        Assert.Equal("MQTT", mqtt.Value.Transport);

        // The intermediate is not in DPS: sending only the leaf is refused, and the diagnosis names what is missing.
        var leafOnly = await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Https, leafOnly: true);
        Assert.True(leafOnly.Succeeded, leafOnly.Error?.Message);
        Assert.False(leafOnly.Value!.Assigned);
        Assert.Equal("missingChainElements", leafOnly.Value.Reason);
        Assert.Contains("trcave Intermediate", leafOnly.Value.Missing, StringComparison.Ordinal);
        Assert.Contains("-chain.pem", leafOnly.Value.WhatToDo, StringComparison.Ordinal);
        Assert.Equal(StepState.Done, Step10(await wizard.Setups.GetAsync(op, id)).State); // a later refusal keeps the earlier proof

        // A device whose key has left the download window cannot be tested.
        factory.Services.GetRequiredService<DeviceKeyVault>().Forget(device.Id);
        var gone = await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Https);
        Assert.False(gone.Succeeded);
        Assert.Contains("throwaway", gone.Error!.WhatToDo, StringComparison.Ordinal);

        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "tr-op" && a.Action == AuditActions.SetupTestRegistration && a.Outcome == AuditOutcomes.Succeeded)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "tr-viewer" && a.Action == AuditActions.SetupTestRegistration && a.Outcome == AuditOutcomes.Denied)));
    }

    private static WizardStepStatus Step10(PortalResult<SetupView> view) => view.Value!.Steps.Single(s => s.Step.Number == 10);

    private sealed class Sink(List<string> sink) : IProgress<string>
    {
        public void Report(string value) => sink.Add(value);
    }
}
