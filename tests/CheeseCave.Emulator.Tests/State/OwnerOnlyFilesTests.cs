using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.State;

/// <summary>The state holds the provisioningserviceowner and iothubowner keys, the TLS folder the emulator CA's key: owner-only.</summary>
public sealed class OwnerOnlyFilesTests : IDisposable
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadable = File600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-emu-modes-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_new_data_folder_its_state_and_its_TLS_key_are_owner_only()
    {
        Assert.False(OperatingSystem.IsWindows(), "Unix file modes");
        await using (var emulator = await EmulatorHarness.StartAsync(o => { o.InMemory = false; o.DataDirectory = _folder; }))
        {
            using var put = await emulator.Arm.PutAsync($"/subscriptions/{emulator.SubscriptionId}/resourcegroups/modes-rg?api-version=2022-09-01",
                EmulatorHarness.Json(new JsonObject { ["location"] = "West Europe" }));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);

            AssertModes();
        }

        AssertModes(); // and after the snapshot written at shutdown
    }

    [Fact]
    public async Task State_left_world_readable_by_an_older_version_is_tightened_when_opened()
    {
        var state = Path.Combine(_folder, "state");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(_folder, Folder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(state, Folder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (var file in new[] { "state.snapshot.json", "state.journal" })
        {
            await File.WriteAllTextAsync(Path.Combine(state, file), file.EndsWith(".json", StringComparison.Ordinal) ? "{}" : "");
            File.SetUnixFileMode(Path.Combine(state, file), WorldReadable);
        }

        await using var store = await EmulatorStore.OpenAsync(state, CancellationToken.None);

        Assert.Equal(Folder, File.GetUnixFileMode(state));
        Assert.All(Directory.GetFiles(state), f => Assert.Equal(File600, File.GetUnixFileMode(f)));
    }

    private void AssertModes()
    {
        Assert.Equal(Folder, File.GetUnixFileMode(_folder));
        Assert.Equal(Folder, File.GetUnixFileMode(Path.Combine(_folder, "state")));
        Assert.Equal(Folder, File.GetUnixFileMode(Path.Combine(_folder, "tls")));
        var stateFiles = Directory.GetFiles(Path.Combine(_folder, "state"));
        Assert.NotEmpty(stateFiles);
        Assert.All(stateFiles, f => Assert.Equal(File600, File.GetUnixFileMode(f)));
        Assert.Equal(File600, File.GetUnixFileMode(Path.Combine(_folder, "tls", "emulator-ca.key.pem")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
