using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Setups.HubDevices;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.HubDevices;

/// <summary>
/// The Devices page's handler against the embedded emulator: after step 10's device sent its reading, the hub's
/// device list shows it with its last telemetry, and its details show the twin and the message.
/// </summary>
public sealed class HubDevicesHandlerTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_tested_device_is_listed_with_its_last_telemetry_and_its_twin()
    {
        var (id, op, viewer) = await TestedSetup.CreateAsync(factory, "hdcave");
        await using var scope = factory.Services.CreateAsyncScope();
        var handler = scope.ServiceProvider.GetRequiredService<HubDevicesHandler>();

        var list = await handler.ListDevicesAsync(viewer, id, "hdcave-hub");
        Assert.True(list.Succeeded, list.Error?.Message);
        Assert.True(list.Value!.TelemetryAvailable);
        Assert.Null(list.Value.TelemetryNote);
        Assert.Equal("hdcave", list.Value.SetupName);
        Assert.StartsWith("hdcave-hub.", list.Value.HubHost, StringComparison.Ordinal);
        var row = Assert.Single(list.Value.Devices, d => d.DeviceId == "hdcave-001");
        Assert.True(row.IsEnabled);
        Assert.False(row.IsConnected); // the test device disconnected after reading its twin
        Assert.NotNull(row.LastActivity);
        Assert.NotNull(row.LastTelemetryAt);
        Assert.Contains("\"temperature\"", row.LastTelemetryPreview, StringComparison.Ordinal);

        var details = await handler.GetDeviceAsync(viewer, id, "hdcave-hub", "hdcave-001");
        Assert.True(details.Succeeded, details.Error?.Message);
        Assert.True(details.Value!.DesiredVersion >= 1);
        Assert.StartsWith("{", details.Value.DesiredJson, StringComparison.Ordinal);
        var message = Assert.Single(details.Value.Messages);
        Assert.Equal("hdcave", message.Properties["cave"]);
        Assert.Equal("application/json", message.ContentType);
        Assert.Contains("\"humidity\"", message.Body, StringComparison.Ordinal);

        var notLinked = await handler.ListDevicesAsync(viewer, id, "some-other-hub");
        Assert.Contains("not linked", notLinked.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("step 2", notLinked.Error.WhatToDo, StringComparison.Ordinal);
        var gone = await handler.GetDeviceAsync(viewer, id, "hdcave-hub", "nobody-here");
        Assert.Contains("has no device 'nobody-here'", gone.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(PortalError.NotFound, (await handler.ListDevicesAsync(op, 987654, "hdcave-hub")).Error);
        Assert.True((await handler.ListDevicesAsync(new ClaimsPrincipal(new ClaimsIdentity()), id, "hdcave-hub")).Error!.Denied);
    }

    [Fact]
    public async Task A_device_whose_certificate_the_hub_refuses_gets_a_failed_line_with_what_to_do()
    {
        var (id, op, _) = await TestedSetup.CreateAsync(factory, "hdrefuse");
        await using var scope = factory.Services.CreateAsyncScope();
        var list = await scope.ServiceProvider.GetRequiredService<HubDevicesHandler>().ListDevicesAsync(op, id, "hdrefuse-hub");
        var hubHost = list.Value!.HubHost;

        // The same device id with a certificate from a CA this setup's DPS never verified.
        var authority = new Pki.CertificateAuthority();
        using var stranger = authority.CreateRoot(new RootCaRequest("Stranger Root")).ToCaCredential();
        using var issued = authority.IssueDeviceCertificate(new DeviceCertificateRequest("hdrefuse-001"), stranger);
        using var device = issued.Key!.AttachToCertificate(issued.Certificate);
        var connection = factory.Services.GetRequiredService<ProvisioningConnectionFactory>().GetConnection(op);
        var check = await HubConnectionCheck.RunAsync(connection, hubHost, "hdrefuse", device, [], TimeProvider.System, null, CancellationToken.None);

        Assert.False(check.Succeeded);
        Assert.Equal([HubCheckState.Failed, HubCheckState.Skipped, HubCheckState.Skipped], check.Lines.Select(l => l.State));
        Assert.Contains("the hub refused the device's certificate", check.Lines[0].Detail, StringComparison.Ordinal);
        Assert.Contains("enabled", check.Lines[0].WhatToDo, StringComparison.Ordinal);
    }
}
