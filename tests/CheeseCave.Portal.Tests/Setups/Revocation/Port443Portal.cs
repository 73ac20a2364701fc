using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Revocation;

/// <summary>
/// A portal whose embedded emulator listens on 127.0.0.x:443 (HTTPS) and :8883 (MQTT), the only ports the official
/// Node device SDK reaches. It takes a loopback address where both ports are free (like tests/conformance/run.sh),
/// so it never clashes with the conformance suite's emulator or another run. Port 443 needs root (tests/run.sh runs
/// as root in CI) or a lowered net.ipv4.ip_unprivileged_port_start; without either it fails and says so.
/// </summary>
public sealed class Port443Portal : IAsyncLifetime
{
    private PortalFactory? _base;

    public WebApplicationFactory<Program> Portal { get; private set; } = null!;

    public IServiceProvider Services => Portal.Services;

    /// <summary>The loopback address the emulator listens on.</summary>
    public string Address { get; private set; } = "";

    public Task InitializeAsync()
    {
        var failures = new List<string>();
        foreach (var address in Candidates())
        {
            if (!Free(address, 443) || !Free(address, 8883))
            {
                failures.Add($"{address}: 443 or 8883 taken");
                continue;
            }

            var candidate = new PortalFactory();
            var portal = candidate.WithWebHostBuilder(b => b
                .UseSetting("CheeseCave:Emulator:BindAddress", address)
                .UseSetting("CheeseCave:Emulator:HttpsPort", "443")
                .UseSetting("CheeseCave:Emulator:MqttPort", "8883"));
            try
            {
                _ = portal.Services; // starts the host and its emulator
                (_base, Portal, Address) = (candidate, portal, address);
                return Task.CompletedTask;
            }
            catch (InvalidOperationException ex)
            {
                // Taken between the check and the start (another run): try the next address.
                failures.Add($"{address}: {ex.Message}");
                portal.Dispose();
                candidate.Dispose();
            }
        }

        throw new InvalidOperationException(
            "The emulator could not listen on port 443 and 8883 of any loopback address tried. The official Node device SDK reaches only those ports, "
            + "so this test needs root (or net.ipv4.ip_unprivileged_port_start=443). Tried: " + string.Join("; ", failures));
    }

    /// <summary>The emulator's endpoints (its TLS trust bundle, the device host names).</summary>
    public CheeseCave.Emulator.Hosting.EmulatorEndpoints Endpoints => Services.GetRequiredService<EmbeddedEmulator>().Endpoints
        ?? throw new InvalidOperationException("The embedded emulator is not running.");

    public async Task<ClaimsPrincipal> UserAsync(string userName, string role)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user, TestPasswords.Default)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        return await scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>().CreateUserPrincipalAsync(user);
    }

    /// <summary>A client signed in through the sign-in form, for the download endpoints.</summary>
    public async Task<HttpClient> SignedInClientAsync(string userName)
    {
        var client = Portal.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var response = await Forms.SignInAsync(client, userName, TestPasswords.Default);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_base is not null)
        {
            await Portal.DisposeAsync();
            await _base.DisposeAsync(); // never started itself; removes the data folder
        }
    }

    private static IEnumerable<string> Candidates()
    {
        // Not 127.0.0.1 (the portal's default emulator and the conformance suite's first choice).
#pragma warning disable CA5394 // spreading runs over addresses, not security
        for (var i = 0; i < 6; i++)
        {
            yield return $"127.0.0.{Random.Shared.Next(2, 252)}";
        }
#pragma warning restore CA5394
    }

    private static bool Free(string address, int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Parse(address), port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
