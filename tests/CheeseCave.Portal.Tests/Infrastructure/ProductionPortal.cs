using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>
/// The portal as it runs in production: the Production environment (exception handler, HSTS), real Kestrel on
/// loopback with an HTTP and an HTTPS listener (a throw-away self-signed certificate), its own data folder.
/// </summary>
public sealed class ProductionPortal : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly X509Certificate2 _certificate = SelfSigned();

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "cheesecave-production-test-" + Guid.NewGuid().ToString("N"));

    public CapturingSetupTokenSink SetupLinks { get; } = new();

    /// <summary>Extra configuration (e.g. the reverse-proxy settings), applied after the defaults.</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public Uri HttpAddress { get; private set; } = null!;

    public Uri HttpsAddress { get; private set; } = null!;

    /// <summary>The self-signed certificate the HTTPS listener serves (a reverse proxy in front may serve it too).</summary>
    public X509Certificate2 Certificate => _certificate;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("CheeseCave:DataDirectory", DataDirectory);
        builder.UseSetting("CheeseCave:Emulator:HttpsPort", "0");
        builder.UseSetting("CheeseCave:Emulator:MqttPort", "0");
        builder.UseSetting("CheeseCave:Approvals:Enabled", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<ISetupTokenSink>(SetupLinks)));
    }

    public Task InitializeAsync()
    {
        UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(_certificate));
        });
        StartServer();

        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        HttpAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)));
        HttpsAddress = new Uri(addresses.First(a => a.StartsWith("https://", StringComparison.Ordinal)));
        return Task.CompletedTask;
    }

    /// <summary>A client with its own cookies that does not follow redirects and trusts only this portal's certificate.</summary>
    public HttpClient CreateRealClient(bool https = false, CookieContainer? cookies = null, Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect = null, Uri? baseAddress = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = cookies ?? new CookieContainer(),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificate.GetCertHashString(),
            },
        };
        if (connect is not null)
        {
            handler.ConnectCallback = connect;
        }

        return new HttpClient(handler) { BaseAddress = baseAddress ?? (https ? HttpsAddress : HttpAddress) };
    }

    public async Task CreateUserAsync(string userName, string role, string password = TestPasswords.Default)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user, password)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _certificate.Dispose();
        SqliteConnection.ClearAllPools();
        await TestFolders.DeleteAsync(DataDirectory);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel on Linux needs the key in a form it can hand to OpenSSL: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
