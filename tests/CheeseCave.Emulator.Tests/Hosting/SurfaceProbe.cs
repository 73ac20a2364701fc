using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using CheeseCave.Emulator.Tests.Device;
using CheeseCave.Emulator.Tests.Service;

namespace CheeseCave.Emulator.Tests.Hosting;

/// <summary>What one request to a surface got back (the body read before the connection is closed).</summary>
internal sealed record SurfaceAnswer(HttpStatusCode Status, HttpResponseHeaders Headers, JsonNode? Body, TimeSpan Elapsed)
{
    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>
/// An emulator (real sockets, real TLS) with one DPS, a verified root, an X.509 group on it and a linked hub, and
/// one request per surface that succeeds when no fault is injected: ARM GET of the seeded resource group, DPS
/// service GET of the enrollment group, and an X.509 device registration over HTTPS mTLS. Every request uses a
/// new HttpClient, so a dropped connection cannot leak into the next request.
/// </summary>
internal sealed class SurfaceProbe : IAsyncDisposable
{
    private int _devices;

    private SurfaceProbe(DeviceTestEnvironment env, TestPki pki)
    {
        Env = env;
        Pki = pki;
    }

    public DeviceTestEnvironment Env { get; }

    public TestPki Pki { get; }

    public static async Task<SurfaceProbe> StartAsync(Action<FaultOptions>? faults = null)
    {
        var pki = new TestPki();
        var env = await DeviceTestEnvironment.StartAsync(configure: o => faults?.Invoke(o.Faults));
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        return new SurfaceProbe(env, pki);
    }

    /// <summary>A fresh device identity under the intermediate (registration IDs are unique per probe).</summary>
    public DeviceIdentity NewDevice() => Pki.IssueDevice($"probe-{Interlocked.Increment(ref _devices):D4}");

    public async Task<SurfaceAnswer> SendAsync(Surface surface, DeviceIdentity? device = null)
    {
        using var client = surface == Surface.Device
            ? Env.DeviceClient(device ??= NewDevice())
            : Env.Harness.CreateClient(null);
        using var request = surface switch
        {
            Surface.Arm => ArmRequest(),
            Surface.Service => ServiceRequest(),
            _ => DeviceRequest(device!),
        };
        var watch = Stopwatch.StartNew();
        using var response = await client.SendAsync(request);
        var body = await EmulatorHarness.ReadJsonAsync(response);
        watch.Stop();
        return new SurfaceAnswer(response.StatusCode, response.Headers, body, watch.Elapsed);
    }

    private HttpRequestMessage ArmRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{Env.Harness.ResourceGroupPath}?api-version=2022-09-01");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Env.Harness.Server.Endpoints.BearerToken);
        return request;
    }

    private HttpRequestMessage ServiceRequest()
    {
        var dps = Env.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(Env.DpsName))!;
        var owner = dps.AuthorizationPolicies.Single(p => p.KeyName == "provisioningserviceowner");
        var request = new HttpRequestMessage(HttpMethod.Get, "/enrollmentGroups/cave-group?api-version=2021-10-01");
        request.Headers.TryAddWithoutValidation("Authorization",
            TestSas.Token(Env.Harness.Server.Context.HttpsHost, owner.KeyName, owner.PrimaryKey, DateTimeOffset.UtcNow.AddHours(1)));
        return request;
    }

    private HttpRequestMessage DeviceRequest(DeviceIdentity device) =>
        new(HttpMethod.Put, $"/{Env.IdScope}/registrations/{device.RegistrationId}/register?api-version={DeviceTestEnvironment.ApiVersion}")
        {
            Content = EmulatorHarness.Json(new JsonObject { ["registrationId"] = device.RegistrationId }),
        };

    public async ValueTask DisposeAsync()
    {
        await Env.DisposeAsync();
        Pki.Dispose();
    }
}
