using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>A device's TLS identity: the leaf with its key and the intermediates it sends.</summary>
public sealed record DeviceIdentity(string RegistrationId, X509Certificate2 Certificate, IReadOnlyList<X509Certificate2> Intermediates)
{
    public string PublicPem => CertificateExport.ToPem(Certificate);
}

/// <summary>Root → intermediate test PKI from CheeseCave.Pki, and device certificates under either CA.</summary>
public sealed class TestPki : IDisposable
{
    private readonly CertificateAuthority _authority;

    public TestPki(string name = "Cave", TimeProvider? time = null)
    {
        _authority = new CertificateAuthority(time ?? TimeProvider.System);
        // The credentials own the keys from here on, so the issued objects are not disposed.
        Root = _authority.CreateRoot(new RootCaRequest($"{name} Test Root")).ToCaCredential();
        Intermediate = _authority.CreateIntermediate(new IntermediateCaRequest($"{name} Test Intermediate"), Root).ToCaCredential();
    }

    public CaCredential Root { get; }

    public CaCredential Intermediate { get; }

    /// <summary>A device certificate under <paramref name="issuer"/> (the intermediate by default), sending the chain without the root.</summary>
    public DeviceIdentity IssueDevice(string registrationId, CaCredential? issuer = null, TimeSpan? validity = null)
    {
        using var issued = _authority.IssueDeviceCertificate(new DeviceCertificateRequest(registrationId) { Validity = validity }, issuer ?? Intermediate);
        return new DeviceIdentity(registrationId, WithKey(issued), issued.DeviceChain.Skip(1).ToArray());
    }

    /// <summary>The leaf with its key, round-tripped through PKCS#12 so SslStream can use the key on every platform.</summary>
    public static X509Certificate2 WithKey(IssuedCertificate issued)
    {
        using var attached = issued.Key!.AttachToCertificate(issued.Certificate);
        return X509CertificateLoader.LoadPkcs12(attached.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.EphemeralKeySet);
    }

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
    }
}

/// <summary>
/// An emulator with one DPS and its IoT hubs written straight into the store (the ARM and service surfaces are
/// built elsewhere), plus helpers to register devices over HTTPS the way the Node SDK does.
/// </summary>
public sealed class DeviceTestEnvironment : IAsyncDisposable
{
    public const string ApiVersion = "2019-03-31";

    private DeviceTestEnvironment(EmulatorHarness harness, string dpsName, string idScope)
    {
        Harness = harness;
        DpsName = dpsName;
        IdScope = idScope;
    }

    public EmulatorHarness Harness { get; }

    internal EmulatorStore Store => Harness.Server.Context.Store;

    public string DpsName { get; }

    public string IdScope { get; }

    public static string HubHost(string hub) => $"{hub}.azure-devices.net";

    public static string HubKey(string hub) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"key-of-{hub}-0123456789abcdef"));

    /// <summary>Starts an emulator with DPS "cave-dps" linked to the given hubs (name, location, weight).</summary>
    public static async Task<DeviceTestEnvironment> StartAsync(string allocationPolicy = "Hashed", string dpsLocation = "westeurope",
        IEnumerable<(string Name, string Location, int Weight)>? hubs = null, Action<EmulatorOptions>? configure = null, TimeProvider? time = null)
    {
        var harness = await EmulatorHarness.StartAsync(configure, time);
        var environment = new DeviceTestEnvironment(harness, "cave-dps", "0ne00C4E5A1");
        var hubList = (hubs ?? [("cave-hub", dpsLocation, 1)]).ToList();
        var now = DateTimeOffset.UtcNow;
        var options = harness.Server.Context.Options;
        await environment.Store.WriteAsync(tx =>
        {
            foreach (var (name, location, _) in hubList)
            {
                tx.Put(environment.Store.IotHubs, ArmKeys.IotHub(name), new IotHubEntity(options.SubscriptionId, options.ResourceGroup, name, location, [], "S1", 1,
                    [
                        new AccessPolicy("iothubowner", HubKey(name), HubKey(name + "-2"), "RegistryWrite, ServiceConnect, DeviceConnect"),
                        new AccessPolicy("service", HubKey(name + "-svc"), HubKey(name + "-svc2"), "ServiceConnect"),
                    ], EmulatorContext.NewEtag(), now));
            }

            tx.Put(environment.Store.ProvisioningServices, ArmKeys.ProvisioningService(environment.DpsName), new ProvisioningServiceEntity(
                options.SubscriptionId, options.ResourceGroup, environment.DpsName, dpsLocation, [], "S1", 1, environment.IdScope, allocationPolicy,
                hubList.Select(h => new LinkedHub($"HostName={HubHost(h.Name)};SharedAccessKeyName=iothubowner;SharedAccessKey={HubKey(h.Name)}", h.Location, true, h.Weight)).ToList(),
                [new AccessPolicy("provisioningserviceowner", EmulatorContext.NewKey(), EmulatorContext.NewKey(), "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite")],
                EmulatorContext.NewEtag(), now));
        });
        return environment;
    }

    public Task AddCertificateAsync(string name, X509Certificate2 certificate, bool verified)
    {
        var now = DateTimeOffset.UtcNow;
        return Store.WriteAsync(tx => tx.Put(Store.DpsCertificates, ArmKeys.DpsCertificate(DpsName, name),
            new DpsCertificateEntity(DpsName, name, certificate.RawData, verified, null, EmulatorContext.NewEtag(), now, now)));
    }

    public Task PutEnrollmentAsync(JsonObject body)
    {
        var isGroup = body.ContainsKey("enrollmentGroupId");
        var id = (isGroup ? body["enrollmentGroupId"] : body["registrationId"])!.GetValue<string>();
        var now = DateTimeOffset.UtcNow;
        var existing = Store.Enrollments.Get(ArmKeys.Enrollment(DpsName, isGroup, id));
        return Store.WriteAsync(tx => tx.Put(Store.Enrollments, ArmKeys.Enrollment(DpsName, isGroup, id),
            new EnrollmentEntity(DpsName, id, isGroup, body, EmulatorContext.NewEtag(), existing?.Created ?? now, now)));
    }

    /// <summary>An X.509 enrollment group on a DPS certificate, with an initial twin, as the service API stores it.</summary>
    public static JsonObject X509Group(string id, string caReference, string[]? iotHubs = null, string? allocationPolicy = null,
        bool enabled = true, bool updateHubAssignment = true, bool migrateDeviceData = true, bool iotEdge = false)
    {
        var body = new JsonObject
        {
            ["enrollmentGroupId"] = id,
            ["attestation"] = new JsonObject { ["type"] = "x509", ["x509"] = new JsonObject { ["caReferences"] = new JsonObject { ["primary"] = caReference } } },
            ["provisioningStatus"] = enabled ? "enabled" : "disabled",
            ["reprovisionPolicy"] = new JsonObject { ["updateHubAssignment"] = updateHubAssignment, ["migrateDeviceData"] = migrateDeviceData },
            ["initialTwin"] = new JsonObject
            {
                ["tags"] = new JsonObject { ["cave"] = "roquefort", ["group"] = id },
                ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["humidity"] = 95, ["$version"] = 1 } },
            },
            ["capabilities"] = new JsonObject { ["iotEdge"] = iotEdge },
        };
        if (iotHubs is not null) body["iotHubs"] = new JsonArray(iotHubs.Select(h => (JsonNode)HubHost(h)).ToArray());
        if (allocationPolicy is not null) body["allocationPolicy"] = allocationPolicy;
        return body;
    }

    public HttpClient DeviceClient(DeviceIdentity? device, bool sendIntermediates = true) =>
        Harness.CreateClient(device?.Certificate, device is null || !sendIntermediates ? null : device.Intermediates);

    /// <summary>PUT /{idScope}/registrations/{id}/register as the Node SDK sends it.</summary>
    public async Task<(HttpStatusCode Status, JsonNode Body, HttpResponseMessage Response)> RegisterAsync(
        DeviceIdentity? device, string? registrationId = null, bool sendIntermediates = true, string? sas = null, JsonObject? payload = null)
    {
        using var client = DeviceClient(device, sendIntermediates);
        return await RegisterWithAsync(client, registrationId ?? device!.RegistrationId, sas, payload);
    }

    public async Task<(HttpStatusCode Status, JsonNode Body, HttpResponseMessage Response)> RegisterWithAsync(HttpClient client, string registrationId, string? sas = null, JsonObject? payload = null)
    {
        var body = new JsonObject { ["registrationId"] = registrationId };
        if (payload is not null) body["payload"] = payload;
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/{IdScope}/registrations/{registrationId}/register?api-version={ApiVersion}")
        {
            Content = EmulatorHarness.Json(body),
        };
        if (sas is not null) request.Headers.TryAddWithoutValidation("Authorization", sas);
        var response = await client.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, (await EmulatorHarness.ReadJsonAsync(response))!, response);
    }

    /// <summary>An IoT Hub service SAS for a hub policy.</summary>
    public static string HubSas(string hub, string policy = "iothubowner", string? key = null) =>
        SharedAccessSignatures.Create(HubHost(hub), policy, key ?? HubKey(hub), DateTimeOffset.UtcNow.AddHours(1));

    public HttpClient HubClient(string hub, string policy = "iothubowner", string? key = null)
    {
        var client = Harness.CreateClient(null);
        client.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(HubSas(hub, policy, key));
        return client;
    }

    internal HubDeviceEntity? HubDevice(string hub, string deviceId) => Store.HubDevices.Get(ArmKeys.HubDevice(hub, deviceId));

    internal RegistrationEntity? Registration(string registrationId) => Store.Registrations.Get(ArmKeys.Registration(DpsName, registrationId));

    public static string Sha256(X509Certificate2 certificate) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(certificate.RawData));

    public ValueTask DisposeAsync() => Harness.DisposeAsync();
}

internal static class JsonAssert
{
    public static string Str(this JsonNode? node, params string[] path)
    {
        var current = node;
        foreach (var name in path) current = current?[name];
        Assert.True(current is not null, $"missing {string.Join('.', path)} in {node?.ToJsonString()}");
        return current!.GetValue<string>();
    }
}
