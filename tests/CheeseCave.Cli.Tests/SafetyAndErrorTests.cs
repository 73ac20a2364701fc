using System.Diagnostics;

namespace CheeseCave.Cli.Tests;

public sealed class SafetyAndErrorTests : IDisposable
{
    private readonly CliRunner _cli = new();

    [Fact]
    public void A_passphrase_from_the_environment_is_used_and_nothing_is_generated()
    {
        _cli.Environment["CHEESECAVE_PASSPHRASE"] = "correct horse battery staple";
        var result = _cli.Run("create_root_and_intermediate").ShouldSucceed();
        Assert.Contains("CHEESECAVE_PASSPHRASE", result.Output);
        Assert.False(File.Exists(_cli.PathOf("private/passphrase.txt")));
        OpenSsl.Ok(_cli.Directory, "pkey", "-in", "private/azure-iot-test-only.intermediate.key.pem", "-passin", "pass:correct horse battery staple", "-noout");
        Assert.NotEqual(0, OpenSsl.Run(_cli.Directory, "pkey", "-in", "private/azure-iot-test-only.intermediate.key.pem", "-passin", "pass:wrong", "-noout").ExitCode);

        // Later commands need the same passphrase.
        _cli.Environment.Remove("CHEESECAVE_PASSPHRASE");
        _cli.Run("create_device_certificate", "dev-1").ShouldFail(1, "no passphrase");
        _cli.Environment["CHEESECAVE_PASSPHRASE"] = "a different passphrase";
        _cli.Run("create_device_certificate", "dev-1").ShouldFail(1, "passphrase is wrong");
        Assert.False(File.Exists(_cli.PathOf("certs/dev-1.cert.pem")));
    }

    [Fact]
    public void A_passphrase_file_is_read_and_weak_passphrases_are_refused()
    {
        File.WriteAllText(_cli.PathOf("pw.txt"), "1234\n");
        _cli.Run("create_root_and_intermediate", "--passphrase-file", "pw.txt").ShouldFail(1, "at least 12");
        Assert.False(Directory.Exists(_cli.PathOf("certs")));

        File.WriteAllText(_cli.PathOf("pw.txt"), "a long enough passphrase\n");
        _cli.Run("create_root_and_intermediate", "--passphrase-file", "pw.txt").ShouldSucceed();
        _cli.Run("create_device_certificate", "dev-1", "--passphrase-file", "pw.txt").ShouldSucceed();
        OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", "certs/dev-1.cert.pfx", "-passin", "pass:a long enough passphrase", "-nokeys");
        _cli.Run("create_device_certificate", "dev-2", "--passphrase-file", "missing.txt").ShouldFail(1, "does not exist");
    }

    [Theory]
    [InlineData("Cave Sensor", "a space")]
    [InlineData("sensor/1", "'/'")]
    [InlineData("sensor.", "ends with '.'")]
    [InlineData("sensor_", "ends with '_'")]
    [InlineData("a-registration-id-that-is-far-too-long-to-fit-in-a-certificate-cn", "at most 64")]
    public void Bad_registration_ids_are_refused_before_anything_is_written(string id, string reason)
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        var before = _cli.Snapshot();
        _cli.Run("create_device_certificate", id).ShouldFail(1, reason);
        Assert.Equal(before, _cli.Snapshot());
    }

    [Fact]
    public void Upper_case_ids_are_issued_with_a_warning()
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        var result = _cli.Run("create_device_certificate", "CaveSensor1").ShouldSucceed();
        Assert.Contains("warning:", result.Output);
        Assert.Contains("lower case", result.Output);
    }

    [Fact]
    public void A_batch_that_reissues_one_device_archives_its_old_files_and_force_replaces_them()
    {
        _cli.Time = CliRunner.FakeTime();
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        _cli.Run("create_device_certificate", "node2").ShouldSucceed();
        var before = _cli.Snapshot();
        ((Microsoft.Extensions.Time.Testing.FakeTimeProvider)_cli.Time).Advance(TimeSpan.FromMinutes(1));
        _cli.Run("create_device_certificate", "node", "--count", "3").ShouldSucceed();
        var after = _cli.Snapshot();
        Assert.NotEqual(before["certs/node2.cert.pem"], after["certs/node2.cert.pem"]);
        Assert.Equal(before["certs/node2.cert.pem"], after["archive/20261130-120100/certs/node2.cert.pem"]);
        Assert.Equal(before["private/node2.key.pem"], after["archive/20261130-120100/private/node2.key.pem"]);
        Assert.True(File.Exists(_cli.PathOf("certs/node3.cert.pfx")));

        _cli.Run("create_device_certificate", "node", "--count", "3", "--force").ShouldSucceed();
        Assert.NotEqual(after["certs/node2.cert.pem"], _cli.Snapshot()["certs/node2.cert.pem"]);
        Assert.Equal(after.Keys.Count(k => k.StartsWith("archive/", StringComparison.Ordinal)), _cli.Snapshot().Keys.Count(k => k.StartsWith("archive/", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_large_batch_writes_every_file_owner_only_where_secret_and_openssl_opens_them_with_the_passphrase()
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        var result = _cli.Run("create_device_certificate_from_intermediate", "bulk-", "--count", "40").ShouldSucceed(); // past the one-sync threshold
        Assert.Contains("Wrote 200 files", result.Output, StringComparison.Ordinal);
        File.WriteAllText(_cli.PathOf("pass.txt"), _cli.Passphrase);
        foreach (var i in new[] { 1, 17, 40 })
        {
            OpenSsl.Ok(_cli.Directory, "pkcs8", "-in", $"private/bulk-{i}.key.pem", "-passin", "file:pass.txt", "-out", $"plain-{i}.pem");
            var pfx = OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", $"certs/bulk-{i}.cert.pfx", "-passin", "file:pass.txt", "-nokeys");
            Assert.Contains($"CN = bulk-{i}", pfx, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.PathOf($"certs/bulk-{i}.cert.pfx")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(_cli.PathOf($"certs/bulk-{i}.cert.pem")));
        }

        Assert.Empty(Directory.EnumerateFiles(_cli.Directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Files_under_the_generated_passphrase_skip_the_stretching_and_a_person_s_passphrase_keeps_it()
    {
        // The generated passphrase (256 random bits): 2,048 rounds, in the PFX MAC and the key file's PBKDF2 (0x0800).
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        File.WriteAllText(_cli.PathOf("pass.txt"), _cli.Passphrase);
        _cli.Run("create_device_certificate", "gen-1").ShouldSucceed();
        Assert.Contains("MAC: sha256, Iteration 2048", OpenSsl.Ok(_cli.Directory, "pkcs12", "-in", "certs/gen-1.cert.pfx", "-passin", "file:pass.txt", "-info", "-nokeys"), StringComparison.Ordinal);
        Assert.Contains("INTEGER           :0800", OpenSsl.Ok(_cli.Directory, "asn1parse", "-in", "private/gen-1.key.pem"), StringComparison.Ordinal);

        // A passphrase a person chose: the full 100,000 rounds (0x0186A0).
        using var person = new CliRunner();
        person.Environment["CHEESECAVE_PASSPHRASE"] = "correct horse battery staple";
        person.Run("create_root_and_intermediate").ShouldSucceed();
        person.Run("create_device_certificate", "typed-1").ShouldSucceed();
        File.WriteAllText(person.PathOf("pass.txt"), "correct horse battery staple");
        Assert.Contains("MAC: sha256, Iteration 100000", OpenSsl.Ok(person.Directory, "pkcs12", "-in", "certs/typed-1.cert.pfx", "-passin", "file:pass.txt", "-info", "-nokeys"), StringComparison.Ordinal);
        Assert.Contains("INTEGER           :0186A0", OpenSsl.Ok(person.Directory, "asn1parse", "-in", "private/typed-1.key.pem"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_batch_that_cannot_put_one_file_in_place_keeps_none_of_its_files()
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        var before = _cli.Snapshot();
        Directory.CreateDirectory(_cli.PathOf("private/bulk-17.key.pem")); // a folder where one key file must go

        _cli.Run("create_device_certificate_from_intermediate", "bulk-", "--count", "40").ShouldFail(1, "nothing was kept");

        Assert.Equal(before.Keys.Order(), _cli.Snapshot().Keys.Order());
        Assert.Empty(Directory.EnumerateFiles(_cli.Directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Commands_without_a_CA_explain_what_to_run_first()
    {
        _cli.Environment["CHEESECAVE_PASSPHRASE"] = "a long enough passphrase";
        _cli.Run("create_device_certificate", "dev-1").ShouldFail(1, "create_root_and_intermediate");
        _cli.Run("create_verification_certificate", "ABC").ShouldFail(1, "no CA found");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_cli.Directory));
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "unknown command")]
    [InlineData(new[] { "create_device_certificate" }, "wrong number of arguments")]
    [InlineData(new[] { "create_device_certificate", "a", "b" }, "wrong number of arguments")]
    [InlineData(new[] { "create_device_certificate", "a", "--colour", "red" }, "has no option --colour")]
    [InlineData(new[] { "create_device_certificate", "a", "--count", "zero" }, "--count must be a whole number")]
    [InlineData(new[] { "create_device_certificate", "a", "--count" }, "--count needs a value")]
    [InlineData(new[] { "create_verification_certificate", "ABC", "--ca", "leaf" }, "--ca must be 'root' or 'intermediate'")]
    public void Usage_mistakes_exit_2_with_one_line(string[] args, string reason)
    {
        _cli.Run(args).ShouldFail(2, reason);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("ABC DEF", "a space")]
    [InlineData("\"ABCDEF\"", "'\"'")]
    public void Bad_verification_codes_are_explained(string code, string reason)
    {
        _cli.Run("create_root_and_intermediate").ShouldSucceed();
        _cli.Run("create_verification_certificate", code).ShouldFail(1, reason);
        Assert.False(File.Exists(_cli.PathOf("certs/verification-code.cert.pem")));
    }

    [Fact]
    public void Bad_options_for_the_CA_are_refused_before_anything_is_written()
    {
        _cli.Run("create_root_and_intermediate", "--root-cn", "Same Name", "--intermediate-cn", "same name").ShouldFail(1, "different name");
        _cli.Run("create_root_and_intermediate", "--key-type", "rsa-1024").ShouldFail(1, "Unknown key type");
        _cli.Run("create_root_and_intermediate", "--preset", "fast").ShouldFail(1, "Unknown preset");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_cli.Directory));
    }

    [Fact]
    public async Task The_built_program_prints_one_error_line_and_a_non_zero_exit_code()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "cheesecave.dll");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _cli.Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("create_device_certificate");
        start.ArgumentList.Add("dev-1");
        start.Environment.Remove("CHEESECAVE_PASSPHRASE");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(1, process.ExitCode);
        Assert.Equal(string.Empty, await stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("cheesecave: error: no passphrase", stderr);
    }

    [Fact]
    public void An_expired_CA_in_the_folder_is_refused_with_the_import_policy_s_words_and_nothing_is_written()
    {
        var clock = CliRunner.FakeTime();
        _cli.Time = clock;
        _cli.Run("create_root_and_intermediate", "--root-days", "3", "--intermediate-days", "2").ShouldSucceed();
        clock.Advance(TimeSpan.FromDays(2.5));
        var before = _cli.Snapshot();
        _cli.Run("create_device_certificate_from_intermediate", "dev-1")
            .ShouldFail(1, "certs/azure-iot-test-only.intermediate.cert.pem: The intermediate CA ('CN=CheeseCave Intermediate CA 2026-11-30");
        _cli.Run("create_device_certificate_from_intermediate", "dev-1").ShouldFail(1, "') expired on 2026-12-02 12:00 UTC. Renew the CA");
        clock.Advance(TimeSpan.FromDays(1));
        _cli.Run("create_verification_certificate", "ABC123").ShouldFail(1, "certs/azure-iot-test-only.root.ca.cert.pem: The root CA ('CN=CheeseCave Root CA 2026-11-30");
        Assert.Equal(before, _cli.Snapshot());
    }

    [Fact]
    public void A_weak_RSA_root_put_in_the_folder_is_refused_before_its_key_is_opened()
    {
        Directory.CreateDirectory(_cli.PathOf("certs"));
        Directory.CreateDirectory(_cli.PathOf("private"));
        OpenSsl.Ok(_cli.Directory, "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", "private/azure-iot-test-only.root.ca.key.pem",
            "-out", "certs/azure-iot-test-only.root.ca.cert.pem", "-days", "30", "-subj", "/CN=Weak Root",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        _cli.Environment["CHEESECAVE_PASSPHRASE"] = "a long enough passphrase";
        var before = _cli.Snapshot();
        _cli.Run("create_verification_certificate", "ABC123")
            .ShouldFail(1, "The root CA ('CN=Weak Root') has a 1024-bit RSA key; at least 2048 bits are required. Make a new CA with RSA 2048 or more");
        Assert.Equal(before, _cli.Snapshot());
    }

    public void Dispose() => _cli.Dispose();
}
