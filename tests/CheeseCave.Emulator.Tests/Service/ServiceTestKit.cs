using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Service;

/// <summary>
/// Builds SAS tokens the way the Azure SDKs do, independently of the emulator's code: HMAC-SHA256 keyed with the
/// base64-decoded key over sr + "\n" + se, base64, URL-encoded into sig.
/// </summary>
internal static class TestSas
{
    public static string Token(string sr, string keyName, string base64Key, DateTimeOffset expiry, string? signedResource = null)
    {
        var se = expiry.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var hmac = new HMACSHA256(Convert.FromBase64String(base64Key));
        var sig = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes((signedResource ?? sr) + "\n" + se)));
        return $"SharedAccessSignature sr={sr}&sig={Uri.EscapeDataString(sig)}&skn={Uri.EscapeDataString(keyName)}&se={se}";
    }

    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

internal static class TestCertificates
{
    /// <summary>A self-signed CA certificate made with the BCL only, as PEM, plus the certificate itself.</summary>
    public static (string Pem, X509Certificate2 Certificate) SelfSigned(string commonName, bool ca = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        var publicOnly = X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert));
        return (publicOnly.ExportCertificatePem(), publicOnly);
    }
}

/// <summary>A DPS created straight in the store: an owner policy with every right, plus policies with single rights.</summary>
internal sealed record TestDps(string Name, string OwnerKey, string ReaderKey, IReadOnlyList<string> Hubs)
{
    public const string Owner = "provisioningserviceowner";
    public const string Reader = "enrollmentreader";
    public const string AllRights = "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite";
}

/// <summary>One emulator shared by a test class; every test makes its own DPS, so tests stay independent.</summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    public EmulatorHarness Harness { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    internal EmulatorStore Store => Harness.Server.Context.Store;

    /// <summary>"localhost:port": the host clients connect to, and so the sr of their tokens.</summary>
    public string Host => Harness.Server.Context.HttpsHost;

    public async Task InitializeAsync()
    {
        Harness = await EmulatorHarness.StartAsync();
        Client = Harness.CreateClient(null);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Harness.DisposeAsync();
    }

    internal async Task<TestDps> CreateDpsAsync(params string[] hubNames)
    {
        var name = "dps-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        var owner = TestSas.NewKey();
        var reader = TestSas.NewKey();
        var hubs = hubNames.Select(h => new LinkedHub($"HostName={h}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={TestSas.NewKey()}", "eastus", true, 1)).ToList();
        var entity = new ProvisioningServiceEntity(Harness.SubscriptionId, "cheesecave-rg", name, "eastus", [], "S1", 1, "0ne" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)),
            "Hashed", hubs,
            [
                new AccessPolicy(TestDps.Owner, owner, TestSas.NewKey(), TestDps.AllRights),
                new AccessPolicy(TestDps.Reader, reader, TestSas.NewKey(), "EnrollmentRead"),
            ],
            "AAAAAAAAAAA=", DateTimeOffset.UtcNow);
        await Store.WriteAsync(tx => tx.Put(Store.ProvisioningServices, ArmKeys.ProvisioningService(name), entity));
        return new TestDps(name, owner, reader, [.. hubs.Select(h => h.HostName)]);
    }

    internal Task AddCertificateAsync(TestDps dps, string certificateName, X509Certificate2 certificate) =>
        Store.WriteAsync(tx => tx.Put(Store.DpsCertificates, ArmKeys.DpsCertificate(dps.Name, certificateName),
            new DpsCertificateEntity(dps.Name, certificateName, certificate.RawData, true, null, "AAAAAAAAAAE=", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow)));

    internal Task AddRegistrationAsync(TestDps dps, string registrationId, string? groupId, string etag = "AAAAAAAAAAI=") =>
        Store.WriteAsync(tx => tx.Put(Store.Registrations, ArmKeys.Registration(dps.Name, registrationId),
            new RegistrationEntity(dps.Name, registrationId, groupId, dps.Hubs.Count > 0 ? dps.Hubs[0] : null, registrationId, "assigned", "initialAssignment", null, null, etag,
                DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow, null, null, new JsonObject { ["model"] = "gouda" })));

    /// <summary>Sends a request signed with the DPS's owner key (or the given token).</summary>
    internal async Task<(HttpResponseMessage Response, JsonNode? Body)> SendAsync(
        TestDps dps, HttpMethod method, string path, JsonNode? body = null, string? ifMatch = null, string? token = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path.Contains('?', StringComparison.Ordinal) ? path : path + "?api-version=2021-10-01");
        request.Headers.TryAddWithoutValidation("Authorization", token ?? OwnerToken(dps));
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (body is not null) request.Content = EmulatorHarness.Json(body);
        var response = await Client.SendAsync(request);
        return (response, await EmulatorHarness.ReadJsonAsync(response));
    }

    internal string OwnerToken(TestDps dps) => TestSas.Token(Host, TestDps.Owner, dps.OwnerKey, DateTimeOffset.UtcNow.AddHours(1));
}

internal static class ServiceAssert
{
    /// <summary>The DPS data-plane error shape: {errorCode, trackingId, message, info, timestampUtc} and x-ms-error-code.</summary>
    public static void DpsError(HttpResponseMessage response, JsonNode? body, HttpStatusCode status, int errorCode)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(body);
        Assert.Equal(errorCode, body!["errorCode"]!.GetValue<int>());
        Assert.True(Guid.TryParse(body["trackingId"]!.GetValue<string>(), out _));
        Assert.False(string.IsNullOrWhiteSpace(body["message"]!.GetValue<string>()));
        Assert.IsType<JsonObject>(body["info"]);
        Assert.True(DateTimeOffset.TryParse(body["timestampUtc"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        Assert.Equal(errorCode.ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("x-ms-error-code").Single());
    }

    public static void Ok(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.NoContent)
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    public static string Message(JsonNode? body) => body!["message"]!.GetValue<string>();
}
