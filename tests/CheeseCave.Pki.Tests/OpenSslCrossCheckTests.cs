using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>OpenSSL 3 as an independent reader: chains verify, extensions print as intended, keys and PFX files open.</summary>
public sealed class OpenSslCrossCheckTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple 42";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Dir => _temp.Path;

    private OpenSslResult Verify(string leaf, string? untrusted = "intermediate.pem", string caFile = "root.pem")
    {
        var arguments = new List<string> { "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", caFile };
        if (untrusted is not null)
        {
            arguments.AddRange(["-untrusted", untrusted]);
        }

        arguments.Add(leaf);
        return OpenSsl.TryRun(Dir, [.. arguments]);
    }

    private static void AssertVerified(OpenSslResult result, string leaf)
    {
        Assert.True(result.Succeeded, "openssl verify failed:\n" + result.AllOutput);
        Assert.Contains($"{leaf}: OK", result.StandardOutput, StringComparison.Ordinal);
    }

    public static TheoryData<ProfilePreset, KeyAlgorithm> ChainCases() => new()
    {
        { ProfilePreset.Recommended, KeyAlgorithm.EcdsaP256 },
        { ProfilePreset.Recommended, KeyAlgorithm.EcdsaP384 },
        { ProfilePreset.Recommended, KeyAlgorithm.Rsa2048 },
        { ProfilePreset.CertGenCompatible, KeyAlgorithm.EcdsaP256 },
        { ProfilePreset.CertGenCompatible, KeyAlgorithm.Rsa2048 },
    };

    [Theory]
    [MemberData(nameof(ChainCases))]
    public void Root_intermediate_device_chain_verifies(ProfilePreset preset, KeyAlgorithm algorithm)
    {
        using var chain = new TestChain(RealClock(), preset, algorithm);
        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("device.pem", chain.Device.Certificate);
        AssertVerified(Verify("device.pem"), "device.pem");

        // The same call must fail without the intermediate, and against an unrelated root: the check can fail.
        Assert.False(Verify("device.pem", untrusted: null).Succeeded);
        using var stranger = new TestChain(RealClock(), preset, KeyAlgorithm.EcdsaP256);
        _temp.WritePem("stranger.pem", stranger.Root.Certificate);
        Assert.False(Verify("device.pem", caFile: "stranger.pem").Succeeded);
    }

    [Theory]
    [InlineData(ProfilePreset.Recommended)]
    [InlineData(ProfilePreset.CertGenCompatible)]
    public void Root_signed_device_verifies(ProfilePreset preset)
    {
        var ca = new CertificateAuthority(RealClock());
        using var root = ca.CreateRoot(new RootCaRequest("Direct Root") { Preset = preset, KeyAlgorithm = KeyAlgorithm.EcdsaP256 });
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        using var device = ca.IssueDeviceCertificate(new DeviceCertificateRequest("direct-device") { Preset = preset, KeyAlgorithm = KeyAlgorithm.EcdsaP256 }, credential);
        _temp.WritePem("root.pem", root.Certificate);
        _temp.WritePem("device.pem", device.Certificate);
        AssertVerified(Verify("device.pem", untrusted: null), "device.pem");
    }

    [Fact]
    public void Verification_certificate_signed_by_intermediate_verifies()
    {
        using var chain = new TestChain(RealClock());
        using var verification = chain.Ca.CreateVerificationCertificate(
            new VerificationCertificateRequest("5A1B2C3D4E5F60718293A4B5C6D7E8F9") { CertificateBeingVerified = chain.Intermediate.Certificate },
            chain.IntermediateCredential);
        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("verification.pem", verification.Certificate);
        AssertVerified(Verify("verification.pem"), "verification.pem");

        // DPS checks the signature with the intermediate's key alone: trusting only the intermediate must be enough.
        var partial = OpenSsl.TryRun(Dir, "verify", "-partial_chain", "-CAfile", "intermediate.pem", "verification.pem");
        Assert.True(partial.Succeeded, partial.AllOutput);
        Assert.Contains("subject=CN = 5A1B2C3D4E5F60718293A4B5C6D7E8F9", OpenSsl.Run(Dir, "x509", "-in", "verification.pem", "-noout", "-subject"), StringComparison.Ordinal);
    }

    [Fact]
    public void Recommended_extensions_print_as_intended()
    {
        using var chain = new TestChain(RealClock());
        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("device.pem", chain.Device.Certificate);

        var root = OpenSsl.Text(Dir, "root.pem");
        Assert.Contains("Version: 3 (0x2)", root, StringComparison.Ordinal);
        Assert.Contains("CA:TRUE", root, StringComparison.Ordinal);
        Assert.DoesNotContain("pathlen", root, StringComparison.Ordinal);
        Assert.Contains("Certificate Sign, CRL Sign", root, StringComparison.Ordinal);
        Assert.DoesNotContain("Digital Signature", root, StringComparison.Ordinal);
        Assert.DoesNotContain("Extended Key Usage", root, StringComparison.Ordinal);

        var intermediate = OpenSsl.Text(Dir, "intermediate.pem");
        Assert.Contains("CA:TRUE, pathlen:0", intermediate, StringComparison.Ordinal);
        Assert.Contains("X509v3 Subject Key Identifier", intermediate, StringComparison.Ordinal);
        Assert.Contains("X509v3 Authority Key Identifier", intermediate, StringComparison.Ordinal);
        Assert.Contains("ecdsa-with-SHA256", intermediate, StringComparison.Ordinal);

        var device = OpenSsl.Text(Dir, "device.pem");
        Assert.Contains("CA:FALSE", device, StringComparison.Ordinal);
        Assert.Contains("X509v3 Key Usage: critical\n                Digital Signature\n", device, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication\n", device, StringComparison.Ordinal);
        Assert.DoesNotContain("E-mail Protection", device, StringComparison.Ordinal);
        Assert.DoesNotContain("Netscape", device, StringComparison.Ordinal);
        Assert.DoesNotContain("DirName", device, StringComparison.Ordinal);
        Assert.Contains("Subject: CN = device-01", device, StringComparison.Ordinal);

        // openssl's SKI of each certificate is the library's, and the device's AKI is the intermediate's SKI.
        Assert.Equal(chain.Intermediate.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifier, KeyIdAfter(intermediate, "X509v3 Subject Key Identifier"));
        Assert.Equal(Convert.ToHexString(Sha1KeyId(chain.Device.Certificate)), KeyIdAfter(device, "X509v3 Subject Key Identifier"));
        Assert.Equal(KeyIdAfter(intermediate, "X509v3 Subject Key Identifier"), KeyIdAfter(device, "X509v3 Authority Key Identifier"));
        Assert.Equal(KeyIdAfter(root, "X509v3 Subject Key Identifier"), KeyIdAfter(root, "X509v3 Authority Key Identifier"));
    }

    [Fact]
    public void CertGen_extensions_print_as_intended()
    {
        using var chain = new TestChain(RealClock(), ProfilePreset.CertGenCompatible, KeyAlgorithm.EcdsaP256);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("device.pem", chain.Device.Certificate);

        var intermediate = OpenSsl.Text(Dir, "intermediate.pem");
        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:TRUE\n", intermediate, StringComparison.Ordinal);
        Assert.Contains("Digital Signature, Certificate Sign, CRL Sign", intermediate, StringComparison.Ordinal);

        var device = OpenSsl.Text(Dir, "device.pem");
        Assert.Contains("Digital Signature, Non Repudiation, Key Encipherment", device, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication, E-mail Protection", device, StringComparison.Ordinal);
        Assert.Contains("Netscape Cert Type: \n                SSL Client, S/MIME", device, StringComparison.Ordinal);
        Assert.Contains("Netscape Comment: \n                OpenSSL Generated Client Certificate", device, StringComparison.Ordinal);
        Assert.DoesNotContain("DirName:", device, StringComparison.Ordinal); // certGen's AKI is the key id alone
        Assert.DoesNotContain("serial:", device, StringComparison.Ordinal);
    }

    [Fact]
    public void Basic_constraints_are_critical_for_every_profile()
    {
        using var chain = new TestChain(RealClock());
        using var verification = chain.Ca.CreateVerificationCertificate(new VerificationCertificateRequest("C0FFEE"), chain.RootCredential);
        foreach (var (name, certificate, expected) in new[]
        {
            ("root.pem", chain.Root.Certificate, "CA:TRUE\n"),
            ("intermediate.pem", chain.Intermediate.Certificate, "CA:TRUE, pathlen:0\n"),
            ("device.pem", chain.Device.Certificate, "CA:FALSE\n"),
            ("verification.pem", verification.Certificate, "CA:FALSE\n"),
        })
        {
            _temp.WritePem(name, certificate);
            var output = OpenSsl.Run(Dir, "x509", "-in", name, "-noout", "-ext", "basicConstraints");
            Assert.StartsWith("X509v3 Basic Constraints: critical\n", output, StringComparison.Ordinal);
            Assert.EndsWith(expected, output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public void Encrypted_key_PEM_opens_with_the_passphrase_only(KeyAlgorithm algorithm)
    {
        using var chain = new TestChain(RealClock(), keyAlgorithm: algorithm);
        var pem = chain.Device.Key!.ExportEncryptedPem(Passphrase);
        Assert.StartsWith(PemLabels.BeginLine(PemLabels.EncryptedPrivateKey), pem, StringComparison.Ordinal);
        _temp.Write("key.pem", pem);
        _temp.Write("pass.txt", Passphrase + "\n");
        _temp.Write("wrong.txt", "not the passphrase\n");
        _temp.WritePem("device.pem", chain.Device.Certificate);

        OpenSsl.Run(Dir, "pkey", "-in", "key.pem", "-passin", "file:pass.txt", "-noout");
        var publicKey = OpenSsl.Run(Dir, "pkey", "-in", "key.pem", "-passin", "file:pass.txt", "-pubout");
        Assert.Equal(OpenSsl.CertificatePublicKey(Dir, "device.pem"), publicKey);
        var structure = OpenSsl.Run(Dir, "asn1parse", "-in", "key.pem");
        Assert.Contains(":aes-256-cbc", structure, StringComparison.Ordinal);
        Assert.Contains(":hmacWithSHA256", structure, StringComparison.Ordinal);

        var wrong = OpenSsl.TryRun(Dir, "pkey", "-in", "key.pem", "-passin", "file:wrong.txt", "-noout");
        Assert.False(wrong.Succeeded, "openssl opened the key with a wrong passphrase.");

        // And the library reads openssl's own encrypted PKCS#8 back.
        _temp.Write("pass-out.txt", Passphrase + "\n"); // openssl reads -passin and -passout from one file as two lines
        OpenSsl.Run(Dir, "pkcs8", "-topk8", "-in", "key.pem", "-passin", "file:pass.txt", "-passout", "file:pass-out.txt", "-v2", "aes-128-cbc", "-out", "openssl-key.pem");
        using var reread = PrivateKey.ImportPem(_temp.Read("openssl-key.pem"), Passphrase);
        Assert.True(reread.Matches(chain.Device.Certificate));
    }

    [Theory]
    [InlineData(PfxEncryption.Modern, "AES-256-CBC", "pbeWithSHA1And3-KeyTripleDES-CBC")]
    [InlineData(PfxEncryption.LegacyCompatible, "pbeWithSHA1And3-KeyTripleDES-CBC", "AES-256-CBC")]
    public void PFX_opens_with_OpenSSL_and_holds_leaf_chain_and_matching_key(PfxEncryption encryption, string expectedCipher, string unexpectedCipher)
    {
        using var chain = new TestChain(RealClock());
        _temp.Write("device.pfx", CertificateExport.ToPfx(chain.Device, Passphrase, encryption));
        _temp.Write("pass.txt", Passphrase + "\n");
        _temp.Write("wrong.txt", "nope\n");
        _temp.WritePem("device.pem", chain.Device.Certificate);

        var certificates = OpenSsl.Run(Dir, "pkcs12", "-in", "device.pfx", "-passin", "file:pass.txt", "-nokeys");
        Assert.Equal(3, OpenSsl.CountCertificates(certificates));
        Assert.Contains("subject=CN = device-01", certificates, StringComparison.Ordinal);
        Assert.Contains("subject=CN = CheeseCave Test Intermediate", certificates, StringComparison.Ordinal);
        Assert.Contains("subject=CN = CheeseCave Test Root", certificates, StringComparison.Ordinal);

        OpenSsl.Run(Dir, "pkcs12", "-in", "device.pfx", "-passin", "file:pass.txt", "-nocerts", "-nodes", "-out", "key.pem");
        Assert.Equal(OpenSsl.CertificatePublicKey(Dir, "device.pem"), OpenSsl.Run(Dir, "pkey", "-in", "key.pem", "-pubout"));

        var info = OpenSsl.TryRun(Dir, "pkcs12", "-in", "device.pfx", "-passin", "file:pass.txt", "-info", "-noout");
        Assert.True(info.Succeeded, info.AllOutput);
        Assert.Contains(expectedCipher, info.AllOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(unexpectedCipher, info.AllOutput, StringComparison.Ordinal);

        Assert.False(OpenSsl.TryRun(Dir, "pkcs12", "-in", "device.pfx", "-passin", "file:wrong.txt", "-nokeys").Succeeded);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OpenSSL_CSR_is_signed_with_the_device_profile_only(bool csrAsksForMore)
    {
        using var chain = new TestChain(RealClock());
        var arguments = new List<string>
        {
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "device.key", "-subj", "/CN=device-42", "-out", "device.csr",
        };
        if (csrAsksForMore)
        {
            arguments.AddRange(["-addext", "subjectAltName=DNS:evil.example", "-addext", "extendedKeyUsage=serverAuth", "-addext", "keyUsage=critical,digitalSignature,keyAgreement"]);
        }

        OpenSsl.Run(Dir, [.. arguments]);
        using var issued = chain.Ca.SignCsr(new CsrSigningRequest(_temp.ReadBytes("device.csr")) { ExpectedRegistrationId = "device-42" }, chain.IntermediateCredential);
        Assert.Null(issued.Key);
        Assert.Equal(CertificateKind.Device, issued.Kind);
        Assert.Equal("CN=device-42", issued.Certificate.Subject);
        Assert.Equal(
            new[] { AuthorityKeyIdentifierOid, BasicConstraintsOid, SubjectKeyIdentifierOid, KeyUsageOid, ExtendedKeyUsageOid }.Order(StringComparer.Ordinal),
            ExtensionOids(issued.Certificate));
        Assert.Equal([ClientAuthOid], EkuOids(issued.Certificate));
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, OnlyExtension<X509KeyUsageExtension>(issued.Certificate).KeyUsages);

        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("device.pem", issued.Certificate);
        AssertVerified(Verify("device.pem"), "device.pem");
        Assert.Equal(OpenSsl.Run(Dir, "pkey", "-in", "device.key", "-pubout"), OpenSsl.CertificatePublicKey(Dir, "device.pem"));
        var text = OpenSsl.Text(Dir, "device.pem");
        Assert.DoesNotContain("Subject Alternative Name", text, StringComparison.Ordinal);
        Assert.DoesNotContain("TLS Web Server Authentication", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Key Agreement", text, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication", text, StringComparison.Ordinal);

        // The same request as DER, and as bare base64, is accepted too.
        OpenSsl.Run(Dir, "req", "-in", "device.csr", "-outform", "DER", "-out", "device.csr.der");
        using var fromDer = chain.Ca.SignCsr(new CsrSigningRequest(_temp.ReadBytes("device.csr.der")), chain.IntermediateCredential);
        Assert.Equal(issued.Certificate.PublicKey.ExportSubjectPublicKeyInfo(), fromDer.Certificate.PublicKey.ExportSubjectPublicKeyInfo());
        var base64 = Encoding.ASCII.GetBytes(Convert.ToBase64String(_temp.ReadBytes("device.csr.der"), Base64FormattingOptions.InsertLineBreaks));
        using var fromBase64 = chain.Ca.SignCsr(new CsrSigningRequest(base64), chain.IntermediateCredential);
        Assert.Equal("CN=device-42", fromBase64.Certificate.Subject);
    }

    [Theory]
    [InlineData("basicConstraints=critical,CA:TRUE", "CA:TRUE")]
    [InlineData("keyUsage=critical,digitalSignature,keyCertSign", "keyCertSign")]
    public void OpenSSL_CSR_asking_to_be_a_CA_is_refused(string extension, string mention)
    {
        using var chain = new TestChain(RealClock());
        OpenSsl.Run(Dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-subj", "/CN=sneaky-device", "-addext", extension, "-out", "ca.csr");
        AssertFails(PkiErrorCode.CsrRequestsCa,
            () => chain.Ca.SignCsr(new CsrSigningRequest(_temp.ReadBytes("ca.csr")), chain.IntermediateCredential), mention);
    }

    [Fact]
    public void CSR_whose_CN_differs_from_the_registration_id_is_refused()
    {
        using var chain = new TestChain(RealClock());
        OpenSsl.Run(Dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem", "-subj", "/CN=device-42", "-out", "a.csr");
        OpenSsl.Run(Dir, "req", "-new", "-key", "k.pem", "-subj", "/O=No Common Name", "-out", "nocn.csr");
        AssertFails(PkiErrorCode.InvalidRegistrationId,
            () => chain.Ca.SignCsr(new CsrSigningRequest(_temp.ReadBytes("a.csr")) { ExpectedRegistrationId = "device-43" }, chain.IntermediateCredential), "device-42", "device-43");
        AssertFails(PkiErrorCode.InvalidRegistrationId,
            () => chain.Ca.SignCsr(new CsrSigningRequest(_temp.ReadBytes("nocn.csr")), chain.IntermediateCredential), "no CN");
    }

    /// <summary>The hex key id openssl prints on the line after the given extension header, without colons.</summary>
    private static string KeyIdAfter(string text, string header)
    {
        var lines = text.Split('\n');
        var index = Array.FindIndex(lines, l => l.TrimStart().StartsWith(header, StringComparison.Ordinal));
        Assert.True(index >= 0, $"'{header}' not found in:\n{text}");
        var value = lines[index + 1].Trim();
        if (value.StartsWith("keyid:", StringComparison.Ordinal))
        {
            value = value["keyid:".Length..];
        }

        return value.Replace(":", string.Empty, StringComparison.Ordinal);
    }
}
