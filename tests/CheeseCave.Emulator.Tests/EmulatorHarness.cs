using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Tests;

/// <summary>
/// A real emulator on loopback (dynamic ports, real TLS) and clients that trust only its CA, as a user's would.
/// </summary>
public sealed class EmulatorHarness : IAsyncDisposable
{
    private EmulatorHarness(EmulatorServer server)
    {
        Server = server;
        Arm = CreateClient(null);
        Arm.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Endpoints.BearerToken);
    }

    public EmulatorServer Server { get; }

    /// <summary>An HTTP client for ARM calls, carrying the emulator's bearer token.</summary>
    public HttpClient Arm { get; }

    public string SubscriptionId => Server.Endpoints.SubscriptionId;

    public string ResourceGroupPath => $"/subscriptions/{SubscriptionId}/resourceGroups/{Server.Endpoints.ResourceGroup}";

    public static async Task<EmulatorHarness> StartAsync(Action<EmulatorOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new EmulatorOptions { InMemory = true, HttpsPort = 0, MqttPort = 0 };
        configure?.Invoke(options);
        var server = await EmulatorServer.StartAsync(options, time);
        return new EmulatorHarness(server);
    }

    /// <summary>An HTTP client that trusts only the emulator CA and optionally presents a client certificate chain.</summary>
    public HttpClient CreateClient(X509Certificate2? clientCertificate, IEnumerable<X509Certificate2>? intermediates = null)
    {
        var ca = Server.Context.Tls.CaCertificate;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            },
        };
        if (clientCertificate is not null)
        {
            // Only a certificate context sends the intermediates in the handshake (docs/toolchain.md §8).
            handler.SslOptions.ClientCertificateContext = SslStreamCertificateContext.Create(
                clientCertificate, new X509Certificate2Collection((intermediates ?? []).ToArray()), offline: true);
        }

        return new HttpClient(handler) { BaseAddress = new Uri(Server.Endpoints.ArmEndpoint) };
    }

    public static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
    }

    public async ValueTask DisposeAsync()
    {
        Arm.Dispose();
        await Server.DisposeAsync();
    }
}
