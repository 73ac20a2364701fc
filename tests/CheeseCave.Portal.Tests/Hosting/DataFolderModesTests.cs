using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Hosting;

public sealed class DataFolderModesTests
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task The_data_folder_and_the_embedded_emulator_state_are_owner_only()
    {
        Assert.False(OperatingSystem.IsWindows(), "Unix file modes");
        await using var factory = new PortalFactory();
        using var client = factory.CreateClient(); // starts the host: database, key ring, emulator
        var paths = factory.Services.GetRequiredService<PortalPaths>();

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(paths.DataDirectory));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(paths.KeysDirectory));
        var emulator = Path.Combine(paths.DataDirectory, "emulator");
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(emulator));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.Combine(emulator, "state")));
        Assert.All(Directory.GetFiles(Path.Combine(emulator, "state")), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task The_embedded_emulator_CA_key_is_encrypted_with_the_portal_key_ring()
    {
        await using var factory = new PortalFactory();
        using var client = factory.CreateClient();
        var tls = Path.Combine(factory.Services.GetRequiredService<PortalPaths>().DataDirectory, "emulator", "tls");

        Assert.True(File.Exists(Path.Combine(tls, "emulator-ca.key.protected")));
        Assert.False(File.Exists(Path.Combine(tls, "emulator-ca.key.pem")));
        Assert.All(Directory.GetFiles(tls), f => Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(f), StringComparison.Ordinal));
    }

    [Fact]
    public void An_existing_world_readable_data_folder_is_tightened()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-modes-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.SetUnixFileMode(folder, OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

            new PortalPaths(folder).EnsureKeysDirectory();

            Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
