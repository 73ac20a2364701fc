namespace CheeseCave.Cli.Tests;

public sealed class CsrAndInspectTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public CsrAndInspectTests() => _cli.Run("create_root_and_intermediate").ShouldSucceed();

    [Fact]
    public void A_CSR_from_openssl_is_signed_by_the_intermediate_and_the_key_stays_on_the_device()
    {
        OpenSsl.Ok(_cli.Directory, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "device.key", "-out", "device.csr", "-subj", "/CN=cave-door-7");
        var result = _cli.Run("sign_csr", "device.csr").ShouldSucceed();
        Assert.Contains("cave-door-7", result.Output);
        Assert.False(File.Exists(_cli.PathOf("private/cave-door-7.key.pem")));
        Assert.Contains(": OK", OpenSsl.Ok(_cli.Directory, "verify", "-CAfile", "certs/azure-iot-test-only.root.ca.cert.pem",
            "-untrusted", "certs/cave-door-7-chain.cert.pem", "certs/cave-door-7.cert.pem"));
        var certKey = OpenSsl.Ok(_cli.Directory, "x509", "-in", "certs/cave-door-7.cert.pem", "-noout", "-pubkey");
        var deviceKey = OpenSsl.Ok(_cli.Directory, "pkey", "-in", "device.key", "-pubout");
        Assert.Equal(deviceKey, certKey);

        // A new CSR for the same id is a renewal: the previous certificate files are archived and listed.
        _cli.Time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(2));
        var renewal = _cli.Run("sign_csr", "device.csr").ShouldSucceed();
        Assert.Contains("archived the previous certs/cave-door-7.cert.pem as archive/", renewal.Output);
        Assert.Single(Directory.GetFiles(_cli.PathOf("archive"), "cave-door-7-chain.cert.pem", SearchOption.AllDirectories));
    }

    [Fact]
    public void CSRs_that_break_the_rules_are_refused()
    {
        OpenSsl.Ok(_cli.Directory, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.csr", "-subj", "/CN=sneaky", "-addext", "basicConstraints=critical,CA:TRUE");
        _cli.Run("sign_csr", "ca.csr").ShouldFail(1, "CA:TRUE");

        OpenSsl.Ok(_cli.Directory, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "d.key", "-out", "d.csr", "-subj", "/CN=device-a");
        _cli.Run("sign_csr", "d.csr", "--registration-id", "device-b").ShouldFail(1, "requires the certificate CN to equal the registration ID");
        _cli.Run("sign_csr", "missing.csr").ShouldFail(1, "does not exist");
        _cli.Run("sign_csr", "certs/azure-iot-test-only.root.ca.cert.pem").ShouldFail(1, "certificate, not a request");
        Assert.False(File.Exists(_cli.PathOf("certs/sneaky.cert.pem")));
        Assert.False(File.Exists(_cli.PathOf("certs/device-a.cert.pem")));
    }

    [Fact]
    public void Inspect_reports_readiness_and_exits_1_on_problems()
    {
        _cli.Run("create_device_certificate_from_intermediate", "cave-1").ShouldSucceed();
        var good = _cli.Run("inspect", "certs/cave-1-full-chain.cert.pem").ShouldSucceed();
        Assert.Contains("must send 'cave-1', then 'CheeseCave Intermediate CA", good.Output);
        Assert.Contains("Result: ready.", good.Output);

        var pfx = _cli.Run("inspect", "certs/cave-1.cert.pfx").ShouldSucceed();
        Assert.Contains("3 certificate(s), Pfx format, with its private key (ECDSA P-256)", pfx.Output);

        var mismatch = _cli.Run("inspect", "certs/cave-1-chain.cert.pem", "--registration-id", "cave-2");
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("DPS requires them to be equal", mismatch.Output);

        // A certificate the way a hand-rolled OpenSSL command makes it: bad CN, serial 01, 30 days, no EKU.
        OpenSsl.Ok(_cli.Directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "bad.key", "-out", "bad.pem",
            "-subj", "/CN=Cave Sensor 1", "-days", "30", "-set_serial", "1", "-addext", "basicConstraints=CA:FALSE");
        var bad = _cli.Run("inspect", "bad.pem");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("not a valid registration ID", bad.Output);
        Assert.Contains("8-bit serial", bad.Output);
        Assert.Contains("self-signed", bad.Output);

        File.WriteAllText(_cli.PathOf("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n");
        _cli.Run("inspect", "garbage.pem").ShouldFail(1, "not valid base64");
    }

    public void Dispose() => _cli.Dispose();
}
