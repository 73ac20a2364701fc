using Azure.Identity;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// The one place the portal turns its configuration into a Provisioning connection: the running embedded emulator
/// (target Emulator) or Azure public cloud with DefaultAzureCredential (target Azure). Built once, on first use,
/// because the emulator's endpoints exist only after it started.
/// </summary>
public class ProvisioningConnectionFactory(IOptions<CheeseCaveOptions> options, EmbeddedEmulator emulator)
{
    private readonly Lock _gate = new();
    private ProvisioningConnection? _connection;

    /// <summary>
    /// The connection to use for <paramref name="caller"/>'s calls. Today one shared connection (the emulator's, or
    /// DefaultAzureCredential's identity); with Entra ID configured, calls are meant to run on the signed-in user's
    /// behalf, which is why every call site names its caller.
    /// </summary>
    public virtual ProvisioningConnection GetConnection(System.Security.Claims.ClaimsPrincipal caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return GetSharedConnection();
    }

    private ProvisioningConnection GetSharedConnection()
    {
        lock (_gate)
        {
            return _connection ??= Create();
        }
    }

    /// <summary>A management-plane client over <see cref="GetConnection"/>.</summary>
    public virtual ArmProvisioningClient CreateArmClient(System.Security.Claims.ClaimsPrincipal caller) => new(GetConnection(caller));

    /// <summary>A DPS service-API client from the DPS's shared-access connection string (read from ARM, never stored).</summary>
    public virtual CheeseCave.Provisioning.DpsService.DpsServiceClient CreateDpsServiceClient(System.Security.Claims.ClaimsPrincipal caller, string connectionString) => new(connectionString, GetConnection(caller));

    /// <summary>A device-side client for test registrations (HTTPS or MQTT against the DPS device endpoint).</summary>
    public virtual CheeseCave.Provisioning.DeviceRegistration.DeviceRegistrationClient CreateDeviceRegistrationClient(System.Security.Claims.ClaimsPrincipal caller) => new(GetConnection(caller));

    private ProvisioningConnection Create()
    {
        if (options.Value.Target == Hosting.ProvisioningTarget.Azure)
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
