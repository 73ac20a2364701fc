using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hub;

/// <summary>The live side of the emulated IoT hubs, shared by the device transports and the service endpoints.</summary>
internal sealed class HubRuntime
{
    public HubRuntime(EmulatorStore store, TimeProvider time)
    {
        Connections = new HubConnections(time);
        Authenticator = new HubDeviceAuthenticator(store, time);
        Telemetry = new TelemetryStore(time);
        Twins = new TwinService(store, Connections);
        Methods = new DirectMethods(Connections, time);
        CloudToDevice = new CloudToDeviceQueue(Connections);
    }

    public HubConnections Connections { get; }

    public HubDeviceAuthenticator Authenticator { get; }

    public TelemetryStore Telemetry { get; }

    public TwinService Twins { get; }

    public DirectMethods Methods { get; }

    public CloudToDeviceQueue CloudToDevice { get; }
}
