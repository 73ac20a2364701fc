using System.Net;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Device;

public sealed class MqttDeviceServer : IAsyncDisposable
{
    public int Port { get; private init; }

    public static Task<MqttDeviceServer> StartAsync(EmulatorContext context, IPAddress address, int port, CancellationToken cancellationToken) =>
        Task.FromResult(new MqttDeviceServer { Port = port }); // TODO(issue 3): filled in next

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
