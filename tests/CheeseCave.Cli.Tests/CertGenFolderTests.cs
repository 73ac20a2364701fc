using System.Text.RegularExpressions;
using CheeseCave.Pki;
using Microsoft.Extensions.Time.Testing;

namespace CheeseCave.Cli.Tests;

/// <summary>
/// People from the Learn module arrive with a certGen.sh folder whose root is already verified in DPS: cheesecave
/// must name it as such, inspect it, adopt it (keys and PFX files re-encrypted, certificates untouched, all or
/// nothing) and then carry on issuing certGen's profiles in it.
/// </summary>
public sealed partial class CertGenFolderTests : IDisposable, IClassFixture<CertGenFolderFixture>
{
    private const string RootCert = "certs/azure-iot-test-only.root.ca.cert.pem";
    private const string RootKey = "private/azure-iot-test-only.root.ca.key.pem";
    private readonly CliRunner _cli = new();

    public CertGenFolderTests(CertGenFolderFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        fixture.CopyTo(_cli.Directory);
    }

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void A_certGen_folder_is_named_as_such_and_points_to_adopt_instead_of_a_wrong_passphrase()
    {
        var before = _cli.Snapshot();
        _cli.Run("create_device_certificate", "cheesecave-device2").ShouldFail(1, "is a certGen.sh folder").ShouldFail(1, "cheesecave adopt_certgen");
        _cli.Environment["CHEESECAVE_PASSPHRASE"] = "my own long passphrase";
        var wrong = _cli.Run("create_device_certificate_from_intermediate", "cheesecave-device2").ShouldFail(1, "certGen's password '1234'");
        Assert.DoesNotContain("passphrase is wrong", wrong.Error, StringComparison.Ordinal);
        _cli.Run("create_verification_certificate", "ABC123").ShouldFail(1, "adopt_certgen");
        _cli.Run("create_root_and_intermediate").ShouldFail(1, "will not create a new CA here");
        Assert.Equal(before, _cli.Snapshot());
    }

    [Fact]
    public void CertGen_keys_copied_without_certGen_s_other_files_are_still_recognised_and_adoptable()
    {
        foreach (var trace in new[] { "index.txt", "serial", "openssl_root_ca.cnf" })
        {
            File.Delete(_cli.PathOf(trace));
        }

        Directory.Delete(_cli.PathOf("newcerts"), recursive: true);
        _cli.Environment["CHEESECAVE_PASSPHRASE"] = "my own long passphrase";
        var before = _cli.Snapshot();
        _cli.Run("create_device_certificate", "cheesecave-device2").ShouldFail(1, "encrypted with certGen.sh's password '1234', not your passphrase");
        Assert.Equal(before, _cli.Snapshot());
        _cli.Run("adopt_certgen").ShouldSucceed();
        _cli.Run("create_device_certificate", "cheesecave-device2").ShouldSucceed();
    }

    [Fact]
    public void Inspect_opens_certGen_s_PFX_with_its_password_and_says_so()
    {
        var result = _cli.Run("inspect", "certs/new-device.cert.pfx");
        Assert.True(result.ExitCode is 0 or 1, result.Error); // a certGen leaf has findings, but it must be readable
        Assert.Contains("with its private key (RSA 2048)", result.Output, StringComparison.Ordinal);
        Assert.Contains("certGen.sh's password '1234'", result.Output, StringComparison.Ordinal);
        Assert.Contains("adopt_certgen", result.Output, StringComparison.Ordinal);
        Assert.Contains("CN=cheesecave-device1", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Adopt_keeps_the_CA_and_re_encrypts_every_key_and_PFX_under_the_passphrase()
    {
        var before = _cli.Snapshot();
        var result = _cli.Run("adopt_certgen").ShouldSucceed();
        Assert.Contains("re-encrypted " + RootKey, result.Output, StringComparison.Ordinal);
        Assert.Contains("re-encrypted certs/new-device.cert.pfx", result.Output, StringComparison.Ordinal);
        Assert.Contains("no longer '1234'", result.Output, StringComparison.Ordinal);
        var after = _cli.Snapshot();

        // The certificates DPS knows are byte for byte the same; the profile is recorded.
        foreach (var certificate in new[] { RootCert, "certs/azure-iot-test-only.intermediate.cert.pem", "certs/azure-iot-test-only.chain.ca.cert.pem", "certs/new-device.cert.pem" })
        {
            Assert.Equal(before[certificate], after[certificate]);
        }

        var settings = File.ReadAllText(_cli.PathOf("cheesecave.json"));
        Assert.Contains("\"preset\": \"certgen-compatible\"", settings, StringComparison.Ordinal);
        Assert.Contains("\"keyType\": \"rsa-2048\"", settings, StringComparison.Ordinal);
        Assert.Contains("\"adoptedFrom\": \"certGen.sh\"", settings, StringComparison.Ordinal);

        // Every key and PFX opens with the passphrase, none with 1234 or without a password; all owner-only.
        File.WriteAllText(_cli.PathOf("pass.txt"), _cli.Passphrase);
        foreach (var key in new[] { RootKey, "private/azure-iot-test-only.intermediate.key.pem", "private/new-device.key.pem", "private/verification-code.key.pem" })
        {
            Assert.StartsWith(PemLabels.BeginLine(PemLabels.EncryptedPrivateKey), File.ReadAllText(_cli.PathOf(key)), StringComparison.Ordinal);
            OpenSsl.Ok(_cli.Directory, "pkey", "-in", key, "-passin", "file:pass.txt", "-noout");
            Assert.NotEqual(0, OpenSsl.Run(_cli.Directory, "pkey", "-in", key, "-passin", "pass:1234", "-noout").ExitCode);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.PathOf(key)));
        }

        foreach (var pfx in new[] { "certs/new-device.cert.pfx", "certs/verification-code.cert.pfx" })
        {
            var contents = OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", pfx, "-passin", "file:pass.txt", "-nokeys");
            Assert.Equal(2, Regex.Count(contents, "BEGIN CERTIFICATE")); // the leaf and now its root too
            Assert.NotEqual(0, OpenSsl.Run(_cli.Directory, "pkcs12", "-in", pfx, "-passin", "pass:1234", "-noout").ExitCode);
        }

        // certGen's public certificates are archived; its weak copies of keys and PFX files are gone.
        var archived = after.Keys.Where(k => k.StartsWith("archive/certgen-", StringComparison.Ordinal)).ToList();
        Assert.Contains(archived, k => k.EndsWith("/certs/azure-iot-test-only.root.ca.cert.pem", StringComparison.Ordinal));
        Assert.DoesNotContain(archived, k => k.Contains("/private/", StringComparison.Ordinal) || k.EndsWith(".pfx", StringComparison.Ordinal));
        Assert.False(Directory.Exists(_cli.PathOf(".cheesecave-adopt")));

        // A second adopt has nothing to do.
        _cli.Run("adopt_certgen").ShouldFail(1, "already a cheesecave folder");
    }

    [Fact]
    public void After_adoption_devices_carry_certGen_s_extensions_and_a_reissue_is_a_renewal()
    {
        _cli.Time = CliRunner.FakeTimeAtNow();
        _cli.Run("adopt_certgen").ShouldSucceed();
        var result = _cli.Run("create_device_certificate", "cheesecave-device1").ShouldSucceed();
        Assert.DoesNotContain("shortened", result.Output, StringComparison.Ordinal); // 30 days under a 30-day root: no news
        Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", RootCert, "certs/cheesecave-device1.cert.pem"), StringComparison.Ordinal);

        // Same extensions, in the same order, as certGen's own device certificate, apart from the one documented
        // difference (basicConstraints critical on the leaf).
        var ours = Extensions(OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/cheesecave-device1.cert.pem", "-noout", "-text"));
        var certGens = Extensions(OpenSsl.Ok(_cli.Directory, "x509", "-in", Directory.GetFiles(_cli.PathOf("archive"), "new-device.cert.pem", SearchOption.AllDirectories).Single(), "-noout", "-text"));
        Assert.Equal(certGens.Replace("X509v3 Basic Constraints: \n", "X509v3 Basic Constraints: critical\n", StringComparison.Ordinal), ours);
        Assert.Contains("OpenSSL Generated Client Certificate", ours, StringComparison.Ordinal);

        // Re-issuing the id archives the previous files (listed) instead of refusing.
        var first = _cli.Snapshot();
        ((FakeTimeProvider)_cli.Time).Advance(TimeSpan.FromSeconds(5));
        var renewal = _cli.Run("create_device_certificate", "cheesecave-device1").ShouldSucceed();
        Assert.Contains("archived the previous certs/cheesecave-device1.cert.pfx as archive/", renewal.Output, StringComparison.Ordinal);
        var second = _cli.Snapshot();
        Assert.NotEqual(first["certs/cheesecave-device1.cert.pem"], second["certs/cheesecave-device1.cert.pem"]);
        Assert.Contains(first["private/cheesecave-device1.key.pem"], second.Where(kv => kv.Key.StartsWith("archive/2", StringComparison.Ordinal)).Select(kv => kv.Value));

        // A second renewal within the same second would collide in the archive: refused, nothing written.
        _cli.Run("create_device_certificate", "cheesecave-device1").ShouldFail(1, "already exists (an earlier renewal in the same second)");
        Assert.Equal(second, _cli.Snapshot());
    }

    [Fact]
    public void Edge_device_certificate_is_certGen_s_edge_CA_signed_by_the_intermediate()
    {
        _cli.Run("adopt_certgen").ShouldSucceed();
        var result = _cli.Run("create_edge_device_certificate", "cheese-edge").ShouldSucceed();
        Assert.Contains("signed by the intermediate CA", result.Output, StringComparison.Ordinal);
        var text = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/new-edge-device.cert.pem", "-noout", "-text");
        Assert.Contains("Subject: CN = cheese-edge.ca", text, StringComparison.Ordinal);

        // certGen signs it with v3_intermediate_ca: exactly the intermediate's own extension set.
        var intermediate = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/azure-iot-test-only.intermediate.cert.pem", "-noout", "-text");
        Assert.Equal(Extensions(intermediate), Extensions(text));
        Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", "certs/azure-iot-test-only.chain.ca.cert.pem", "certs/cheese-edge.ca.cert.pem"), StringComparison.Ordinal);
        File.WriteAllText(_cli.PathOf("pass.txt"), _cli.Passphrase);
        Assert.Equal(3, Regex.Count(OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", "certs/cheese-edge.ca.cert.pfx", "-passin", "file:pass.txt", "-nokeys"), "BEGIN CERTIFICATE"));
    }

    [Fact]
    public void Adopt_with_a_wrong_certGen_password_or_in_a_folder_that_is_not_certGen_s_changes_nothing()
    {
        File.WriteAllText(_cli.PathOf("certgen-password.txt"), "4321\n");
        var before = _cli.Snapshot();
        _cli.Run("adopt_certgen", "--certgen-password-file", "certgen-password.txt").ShouldFail(1, "with certGen's password: it is not '1234'");
        Assert.Equal(before, _cli.Snapshot());

        using var empty = new CliRunner();
        empty.Run("adopt_certgen").ShouldFail(1, "is not a certGen.sh folder");
        Assert.Empty(empty.Snapshot());

        using var ours = new CliRunner();
        ours.Run("create_root_and_intermediate").ShouldSucceed();
        ours.Run("adopt_certgen").ShouldFail(1, "already a cheesecave folder");
    }

    [Fact]
    public void An_interrupted_adopt_is_reported_and_the_next_adopt_puts_certGen_s_files_back_first()
    {
        var before = _cli.Snapshot();

        // The state a crash leaves after the first directory swap: certGen's certs/ moved aside, half of the new files staged.
        Directory.CreateDirectory(_cli.PathOf(".cheesecave-adopt/new/certs"));
        File.WriteAllText(_cli.PathOf(".cheesecave-adopt/new/certs/partial.cert.pem"), "half written");
        Directory.CreateDirectory(_cli.PathOf(".cheesecave-adopt/original"));
        Directory.Move(_cli.PathOf("certs"), _cli.PathOf(".cheesecave-adopt/original/certs"));

        _cli.Run("create_device_certificate", "cheesecave-device2").ShouldFail(1, "was interrupted");
        _cli.Run("create_root_and_intermediate").ShouldFail(1, "half adopted");

        var result = _cli.Run("adopt_certgen").ShouldSucceed();
        Assert.Contains("certGen's files were put back", result.Output, StringComparison.Ordinal);
        var after = _cli.Snapshot();
        Assert.Equal(before[RootCert], after[RootCert]);
        Assert.False(after.ContainsKey("certs/partial.cert.pem"));
        Assert.False(Directory.Exists(_cli.PathOf(".cheesecave-adopt")));
        _cli.Run("create_device_certificate", "cheesecave-device2").ShouldSucceed();
    }

    [Fact]
    public void Adopt_reads_keys_in_OpenSSL_1_s_legacy_encrypted_format()
    {
        OpenSsl.Ok(_cli.Directory, "rsa", "-in", RootKey, "-passin", "pass:1234", "-aes256", "-passout", "pass:1234", "-traditional", "-out", "legacy.key.pem");
        File.Copy(_cli.PathOf("legacy.key.pem"), _cli.PathOf(RootKey), overwrite: true);
        Assert.Contains("Proc-Type: 4,ENCRYPTED", File.ReadAllText(_cli.PathOf(RootKey)), StringComparison.Ordinal);
        File.Delete(_cli.PathOf("legacy.key.pem"));

        _cli.Run("adopt_certgen").ShouldSucceed();
        File.WriteAllText(_cli.PathOf("pass.txt"), _cli.Passphrase);
        OpenSsl.Ok(_cli.Directory, "pkey", "-in", RootKey, "-passin", "file:pass.txt", "-noout");
        _cli.Run("create_verification_certificate", "ABC123").ShouldSucceed();
    }

    /// <summary>The extension block of "openssl x509 -text", with key identifiers blanked (they differ per key).</summary>
    private static string Extensions(string text)
    {
        var start = text.IndexOf("X509v3 extensions:", StringComparison.Ordinal);
        var end = text.IndexOf("Signature Algorithm", start, StringComparison.Ordinal);
        return KeyId().Replace(text[start..end], "<key id>");
    }

    [GeneratedRegex("([0-9A-F]{2}:){19}[0-9A-F]{2}")]
    private static partial Regex KeyId();
}
