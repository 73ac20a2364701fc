using System.Text.RegularExpressions;
using CheeseCave.Pki;

namespace CheeseCave.Cli.Tests;

/// <summary>
/// The cheese-cave Learn module's certificate steps, with `cheesecave` in place of `./certGen.sh`:
/// create_root_and_intermediate, upload the root, create_verification_certificate CODE, then
/// create_device_certificate cheesecave-device1..3 each followed by copying new-device.cert.pfx.
/// </summary>
public sealed class LearnModuleFlowTests : IDisposable
{
    private readonly CliRunner _cli = new();

    [Fact]
    public void Learn_module_steps_work_with_certGen_file_names()
    {
        var created = _cli.Run("create_root_and_intermediate").ShouldSucceed();
        Assert.Contains("private/passphrase.txt", created.Output);
        foreach (var file in new[]
                 {
                     "certs/azure-iot-test-only.root.ca.cert.pem", "certs/azure-iot-test-only.intermediate.cert.pem",
                     "certs/azure-iot-test-only.chain.ca.cert.pem", "private/azure-iot-test-only.root.ca.key.pem",
                     "private/azure-iot-test-only.intermediate.key.pem",
                 })
        {
            Assert.True(File.Exists(_cli.PathOf(file)), file);
        }

        // Keys are encrypted PKCS#8 and owner-only; the passphrase too.
        foreach (var secret in new[] { "private/azure-iot-test-only.root.ca.key.pem", "private/passphrase.txt" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.PathOf(secret)));
        }

        Assert.StartsWith(PemLabels.BeginLine(PemLabels.EncryptedPrivateKey), File.ReadAllText(_cli.PathOf("private/azure-iot-test-only.root.ca.key.pem")));
        Assert.True(_cli.Passphrase.Length >= 40);
        File.WriteAllText(_cli.PathOf("pass.txt"), _cli.Passphrase);
        OpenSsl.Ok(_cli.Directory, "pkey", "-in", "private/azure-iot-test-only.root.ca.key.pem", "-passin", "file:pass.txt", "-noout");

        // The chain file is intermediate then root, and verifies.
        Assert.Equal(2, Regex.Count(File.ReadAllText(_cli.PathOf("certs/azure-iot-test-only.chain.ca.cert.pem")), "BEGIN CERTIFICATE"));
        Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", "certs/azure-iot-test-only.root.ca.cert.pem", "certs/azure-iot-test-only.intermediate.cert.pem"));

        // Proof of possession for the uploaded root.
        _cli.Run("create_verification_certificate", "3B9A0C6D2F1E4A5B8C7D6E5F").ShouldSucceed();
        var subject = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/verification-code.cert.pem", "-noout", "-subject");
        Assert.Contains("CN = 3B9A0C6D2F1E4A5B8C7D6E5F", subject);
        Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", "certs/azure-iot-test-only.root.ca.cert.pem", "certs/verification-code.cert.pem"));

        // Three devices in a row: no "rm new*" step is needed between them.
        for (var i = 1; i <= 3; i++)
        {
            var id = $"cheesecave-device{i}";
            _cli.Run("create_device_certificate", id).ShouldSucceed();
            var pfxSubject = OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", "certs/new-device.cert.pfx", "-passin", "file:pass.txt", "-nokeys", "-clcerts");
            Assert.Contains($"CN = {id}", pfxSubject);
            File.Copy(_cli.PathOf("certs/new-device.cert.pfx"), _cli.PathOf($"{id}.pfx"));
            Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", "certs/azure-iot-test-only.root.ca.cert.pem", $"certs/{id}.cert.pem"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.PathOf($"certs/{id}.cert.pfx")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.PathOf($"private/{id}.key.pem")));
        }

        // The PFX holds the key and the chain (leaf + root for a root-signed device).
        var all = OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", "cheesecave-device2.pfx", "-passin", "file:pass.txt", "-nodes");
        Assert.Equal(2, Regex.Count(all, "BEGIN CERTIFICATE"));
        Assert.Contains(PemLabels.BeginLine(PemLabels.PrivateKey), all);
        Assert.Equal(2, Regex.Count(File.ReadAllText(_cli.PathOf("certs/new-device-full-chain.cert.pem")), "BEGIN CERTIFICATE"));
    }

    [Fact]
    public void Rerunning_create_root_and_intermediate_never_touches_the_existing_CA()
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        var before = _cli.Snapshot();
        _cli.Run("create_root_and_intermediate").ShouldFail(1, "never overwrites CA material");
        Assert.Equal(before, _cli.Snapshot());
    }

    [Fact]
    public void Devices_from_the_intermediate_carry_the_chain_the_device_must_send()
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        _cli.Run("create_device_certificate_from_intermediate", "cave-sensor-", "--count", "3").ShouldSucceed();
        for (var i = 1; i <= 3; i++)
        {
            var chain = File.ReadAllText(_cli.PathOf($"certs/cave-sensor-{i}-chain.cert.pem"));
            Assert.Equal(2, Regex.Count(chain, "BEGIN CERTIFICATE"));
            Assert.Equal(3, Regex.Count(File.ReadAllText(_cli.PathOf($"certs/cave-sensor-{i}-full-chain.cert.pem")), "BEGIN CERTIFICATE"));
            Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", "certs/azure-iot-test-only.root.ca.cert.pem",
                "-untrusted", $"certs/cave-sensor-{i}-chain.cert.pem", $"certs/cave-sensor-{i}.cert.pem"));
        }

        // A batch does not write certGen's single-device alias names.
        Assert.False(File.Exists(_cli.PathOf("certs/new-device.cert.pem")));
    }

    [Fact]
    public void Verification_certificate_can_be_signed_by_the_intermediate_for_an_uploaded_intermediate()
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        var result = _cli.Run("create_verification_certificate", "ABC123", "--ca", "intermediate").ShouldSucceed();
        Assert.Contains("signed by the intermediate CA", result.Output);
        var issuer = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/verification-code.cert.pem", "-noout", "-issuer");
        Assert.Contains("Intermediate", issuer);
        Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-partial_chain", "-CAfile", "certs/azure-iot-test-only.intermediate.cert.pem", "certs/verification-code.cert.pem"));
        Assert.NotEqual(0, OpenSsl.Run(_cli.Directory, "verify", "-partial_chain", "-CAfile", "certs/azure-iot-test-only.root.ca.cert.pem", "certs/verification-code.cert.pem").ExitCode);
    }

    [Fact]
    public void CertGen_compatible_preset_reproduces_certGen_profiles()
    {
        _cli.Time = CliRunner.FakeTime();
        _cli.Run("create_root_and_intermediate", "--preset", "certgen-compatible").ShouldSucceed();
        var root = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/azure-iot-test-only.root.ca.cert.pem", "-noout", "-text");
        Assert.Contains("CN = Azure IoT Hub CA Cert Test Only", root);
        Assert.Contains("Public-Key: (4096 bit)", root);
        Assert.Contains("Not After : Dec 30 12:00:00 2026 GMT", root);
        _cli.Run("create_device_certificate", "cheesecave-device1").ShouldSucceed();
        var device = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/cheesecave-device1.cert.pem", "-noout", "-text");
        Assert.Contains("TLS Web Client Authentication, E-mail Protection", device);
        Assert.Contains("Public-Key: (4096 bit)", device);
        Assert.Contains("Netscape Cert Type", device);
    }

    public void Dispose() => _cli.Dispose();
}
