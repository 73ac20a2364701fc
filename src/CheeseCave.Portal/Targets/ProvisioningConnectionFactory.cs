using Azure.Identity;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;

namespace CheeseCave.Portal.Targets;

/// <summary>
/// The one place the portal turns its configuration into a Provisioning connection: the running embedded emulator
/// (target Emulator), Azure public cloud with DefaultAzureCredential (target Azure), or, with Entra ID sign-in and
/// target Azure, Azure on the signed-in user's behalf (their token for ARM and for the DPS data plane). The shared
/// connection is built once, on first use, because the emulator's endpoints exist only after it started.
/// </summary>
public class ProvisioningConnectionFactory(IOptions<CheeseCaveOptions> options, EmbeddedEmulator emulator, PortalSignIn signIn, IServiceProvider services)
{
    private readonly Lock _gate = new();
    private ProvisioningConnection? _connection;

    /// <summary>
    /// The connection to use for <paramref name="caller"/>'s calls: with Entra ID and target Azure, a connection whose
    /// credential acquires the caller's own ARM token (the caller comes from the circuit's authentication state or
    /// the request, never from IHttpContextAccessor); otherwise one shared connection (the emulator's, or
    /// DefaultAzureCredential's identity).
    /// </summary>
    public virtual ProvisioningConnection GetConnection(System.Security.Claims.ClaimsPrincipal caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return OnBehalfOfUser
            ? ProvisioningConnection.ForAzure(EntraUserTokenCredential.ForArm(TokenAcquisition, caller))
            : GetSharedConnection();
    }

    private bool OnBehalfOfUser => signIn.IsEntra && options.Value.Target == Configuration.ProvisioningTarget.Azure;

    // Resolved when first needed: registered only in Entra ID mode.
    private ITokenAcquisition TokenAcquisition => services.GetRequiredService<ITokenAcquisition>();

    private ProvisioningConnection GetSharedConnection()
    {
        lock (_gate)
        {
            return _connection ??= Create();
        }
    }

    /// <summary>A management-plane client over <see cref="GetConnection"/>.</summary>
    public virtual ArmProvisioningClient CreateArmClient(System.Security.Claims.ClaimsPrincipal caller) => new(GetConnection(caller));

    /// <summary>
    /// A DPS service-API client. With Entra ID and target Azure it uses the caller's own token for the DPS data plane
    /// (their DPS data-plane role decides what they may do; only the host of <paramref name="connectionString"/> is
    /// used); otherwise the DPS's shared-access connection string (read from ARM, never stored).
    /// </summary>
    public virtual CheeseCave.Provisioning.DpsService.DpsServiceClient CreateDpsServiceClient(System.Security.Claims.ClaimsPrincipal caller, string connectionString)
    {
        var connection = GetConnection(caller);
        return OnBehalfOfUser
            ? new(CheeseCave.Provisioning.DpsService.DpsServiceConnectionString.Parse(connectionString).HostName, EntraUserTokenCredential.ForDpsDataPlane(TokenAcquisition, caller), connection)
            : new(connectionString, connection);
    }

    /// <summary>A device-side client for test registrations (HTTPS or MQTT against the DPS device endpoint).</summary>
    public virtual CheeseCave.Provisioning.DeviceRegistration.DeviceRegistrationClient CreateDeviceRegistrationClient(System.Security.Claims.ClaimsPrincipal caller) => new(GetConnection(caller));

    private ProvisioningConnection Create()
    {
        if (options.Value.Target == Configuration.ProvisioningTarget.Azure)
        {
            return ProvisioningConnection.ForAzure(new DefaultAzureCredential());
        }

        // A ProvisioningException (transient), so pages show it with "Try again" like any other service error.
        var endpoints = emulator.Endpoints
            ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 503,
                "The built-in emulator is not running yet. Wait a moment and try again; if it persists, check the portal's log for the emulator's start-up error.",
                "EmulatorNotRunning", IsTransient: true));
        return ProvisioningConnection.ForEmulator(new EmulatorConnectionSettings
        {
            ArmEndpoint = new Uri(endpoints.ArmEndpoint),
            SubscriptionId = endpoints.SubscriptionId,
            BearerToken = endpoints.BearerToken,
            ResourceGroup = endpoints.ResourceGroup,
            DeviceProvisioningHost = endpoints.DeviceProvisioningHost,
            MqttHost = endpoints.MqttHost,
            TrustBundlePath = endpoints.TrustBundle,
        });
    }
}
