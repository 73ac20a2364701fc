using CheeseCave.Emulator.Hosting;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Emulator.Tests.Hosting;

/// <summary>The emulator's TLS CA key: encrypted with a Data Protection key ring when one is given, owner-only PEM otherwise.</summary>
public sealed class CaKeyProtectionTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-emu-cakey-" + Guid.NewGuid().ToString("N"));

    private string Tls => Path.Combine(_folder, "data", "tls");

    [Fact]
    public async Task With_a_protector_the_CA_key_is_never_on_disk_in_clear_text_and_survives_a_restart()
    {
        var protector = Protector();
        string thumbprint;
        await using (var first = await StartAsync(protector))
        {
            thumbprint = first.Server.Context.Tls.CaCertificate.Thumbprint;
        }

        AssertNoClearTextKey();
        var stored = Path.Combine(Tls, "emulator-ca.key.protected");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stored));

        await using var second = await StartAsync(Protector());
        Assert.Equal(thumbprint, second.Server.Context.Tls.CaCertificate.Thumbprint);
    }

    [Fact]
    public async Task A_clear_text_key_from_an_older_version_is_encrypted_and_removed()
    {
        string thumbprint;
        await using (var old = await StartAsync(protector: null))
        {
            thumbprint = old.Server.Context.Tls.CaCertificate.Thumbprint;
        }

        Assert.True(File.Exists(Path.Combine(Tls, "emulator-ca.key.pem")));

        await using var upgraded = await StartAsync(Protector());

        Assert.Equal(thumbprint, upgraded.Server.Context.Tls.CaCertificate.Thumbprint); // the same CA, devices keep trusting it
        AssertNoClearTextKey();
    }

    [Fact]
    public async Task Without_a_protector_the_key_is_owner_only()
    {
        await using var emulator = await StartAsync(protector: null);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Tls, "emulator-ca.key.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Tls));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private void AssertNoClearTextKey()
    {
        Assert.False(File.Exists(Path.Combine(Tls, "emulator-ca.key.pem")));
        Assert.All(Directory.GetFiles(Tls), f => Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(f), StringComparison.Ordinal));
    }

    /// <summary>A key ring in its own folder (like the portal's), read afresh each time, as after a process restart.</summary>
    private IDataProtector Protector() =>
        DataProtectionProvider.Create(new DirectoryInfo(Path.Combine(_folder, "keys"))).CreateProtector("test emulator CA key");

    private Task<EmulatorHarness> StartAsync(IDataProtector? protector) =>
        EmulatorHarness.StartAsync(o =>
        {
            o.InMemory = false;
            o.DataDirectory = Path.Combine(_folder, "data");
            o.CaKeyProtector = protector;
        });
}
