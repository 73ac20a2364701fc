using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// The fast leaf path (a template encoded once per issuer) must write exactly what CertificateRequest writes, and the
/// batch encryption (one key derivation per batch) must produce files OpenSSL and .NET open with the passphrase.
/// </summary>
public sealed class BulkIssuanceTests : IDisposable
{
    private const string Passphrase = "batch passphrase for tests";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(ProfilePreset.Recommended, KeyAlgorithm.EcdsaP256)]
    [InlineData(ProfilePreset.Recommended, KeyAlgorithm.Rsa2048)]
    [InlineData(ProfilePreset.CertGenCompatible, KeyAlgorithm.EcdsaP256)]
    [InlineData(ProfilePreset.CertGenCompatible, KeyAlgorithm.Rsa2048)]
    public void Template_writes_the_same_to_be_signed_bytes_as_CertificateRequest(ProfilePreset preset, KeyAlgorithm algorithm)
    {
        using var chain = new TestChain(FixedClock(), preset, algorithm);
        var device = chain.Device.Certificate;

        // Rebuild the device certificate the general way, with the same key, serial and dates, and sign it again.
        var request = new CertificateRequest(device.SubjectName, chain.Device.Key!.PublicKey, chain.Intermediate.Key!.Algorithm.SignatureHash());
        ProfileExtensions.Apply(request, CertificateKind.Device, preset, algorithm, null, chain.IntermediateCredential.SubjectKeyIdentifier);
        using var reference = request.Create(chain.Intermediate.Certificate.SubjectName, chain.Intermediate.Key.CreateSignatureGenerator(),
            NotBefore(device), NotAfter(device), device.SerialNumberBytes.Span);

        Assert.Equal(Convert.ToHexString(ToBeSigned(reference.RawData)), Convert.ToHexString(ToBeSigned(device.RawData)));
        Assert.True(SignatureVerifier.IsSignedBy(device, chain.Intermediate.Certificate));
    }

    [Fact]
    public void Chain_PEM_properties_equal_the_exported_chains()
    {
        using var chain = new TestChain(FixedClock());
        Assert.Equal(CertificateExport.ToPem(chain.Device.Certificate), chain.Device.CertificatePem);
        Assert.Equal(CertificateExport.ToPem(chain.Device.DeviceChain), chain.Device.DeviceChainPem);
        Assert.Equal(CertificateExport.ToPem(chain.Device.FullChain), chain.Device.FullChainPem);
        Assert.Equal(chain.Device.Certificate.RawData, chain.Device.RawData.ToArray());
    }

    [Fact]
    public void Batch_encrypted_keys_and_PFX_files_open_with_openssl_and_dotnet()
    {
        using var chain = new TestChain(RealClock());
        using var second = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("device-02"), chain.IntermediateCredential);
        using var batch = new BatchEncryption(Passphrase);
        _temp.Write("pass.txt", Passphrase + "\n");
        _temp.Write("device.key.pem", batch.EncryptPrivateKeyPem(chain.Device.Key!));
        _temp.Write("second.key.pem", batch.EncryptPrivateKeyPem(second.Key!));
        _temp.Write("device.pfx", batch.ExportPfx(chain.Device));
        _temp.WritePem("device.pem", chain.Device.Certificate);

        // The key files: PBES2 with 100,000 rounds, one salt for the batch, a new IV each.
        var parsed = OpenSsl.Run(_temp.Path, "asn1parse", "-in", "device.key.pem");
        Assert.Contains("PBES2", parsed, StringComparison.Ordinal);
        Assert.Contains("hmacWithSHA256", parsed, StringComparison.Ordinal);
        Assert.Contains("aes-256-cbc", parsed, StringComparison.Ordinal);
        Assert.Contains(":0186A0", parsed, StringComparison.Ordinal); // 100,000
        var (saltA, ivA) = SaltAndIv(_temp.Read("device.key.pem"));
        var (saltB, ivB) = SaltAndIv(_temp.Read("second.key.pem"));
        Assert.Equal(saltA, saltB);
        Assert.NotEqual(ivA, ivB);

        var fromKey = OpenSsl.Run(_temp.Path, "pkey", "-in", "device.key.pem", "-passin", "file:pass.txt", "-pubout");
        var fromCertificate = OpenSsl.CertificatePublicKey(_temp.Path, "device.pem");
        Assert.Equal(fromCertificate, fromKey);
        Assert.False(OpenSsl.TryRun(_temp.Path, "pkey", "-in", "device.key.pem", "-passin", "pass:wrong passphrase", "-noout").Succeeded);
        using (var imported = PrivateKey.ImportPem(_temp.Read("second.key.pem"), Passphrase))
        {
            Assert.True(imported.Matches(second.Certificate));
        }

        // The PFX: MAC verified by openssl, key and the whole chain inside, and .NET's loader accepts it.
        var infoRun = OpenSsl.TryRun(_temp.Path, "pkcs12", "-in", "device.pfx", "-passin", "file:pass.txt", "-info", "-nokeys");
        Assert.True(infoRun.Succeeded, infoRun.AllOutput);
        var info = infoRun.AllOutput;
        Assert.Contains("MAC: sha256, Iteration 100000", info, StringComparison.Ordinal);
        Assert.Equal(3, OpenSsl.CountCertificates(info));
        var keyOut = OpenSsl.Run(_temp.Path, "pkcs12", "-in", "device.pfx", "-passin", "file:pass.txt", "-nocerts", "-nodes");
        Assert.Contains(PemLabels.BeginLine(PemLabels.PrivateKey), keyOut, StringComparison.Ordinal);
        Assert.False(OpenSsl.TryRun(_temp.Path, "pkcs12", "-in", "device.pfx", "-passin", "pass:wrong passphrase", "-noout").Succeeded);

        using var loaded = X509CertificateLoader.LoadPkcs12(_temp.ReadBytes("device.pfx"), Passphrase);
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(chain.Device.Certificate.Thumbprint, loaded.Thumbprint);
        var collection = X509CertificateLoader.LoadPkcs12Collection(_temp.ReadBytes("device.pfx"), Passphrase);
        Assert.Equal(3, collection.Count);
        using var read = CertificateReader.Read(_temp.ReadBytes("device.pfx"), Passphrase);
        Assert.True(read.Key!.Matches(chain.Device.Certificate));
    }

    [Fact]
    public void Key_file_and_PFX_made_together_share_one_encryption_and_both_open()
    {
        using var chain = new TestChain(RealClock());
        using var batch = new BatchEncryption(Passphrase);
        var (keyPem, pfx) = batch.ExportKeyAndPfx(chain.Device);
        using (var key = PrivateKey.ImportPem(keyPem, Passphrase))
        {
            Assert.True(key.Matches(chain.Device.Certificate));
        }

        using var read = CertificateReader.Read(pfx, Passphrase);
        Assert.True(read.Key!.Matches(chain.Device.Certificate));
        Assert.Equal(3, read.Certificates.Count);
        Assert.Throws<PkiException>(() => CertificateReader.Read(pfx, "not the passphrase"));
    }

    [Fact]
    public void PKCS12_MAC_key_matches_the_RFC_7292_derivation_openssl_uses()
    {
        // A PFX written by openssl with a known salt and count: our derivation must reproduce its MAC.
        using var chain = new TestChain(RealClock());
        _temp.WritePem("device.pem", chain.Device.Certificate);
        _temp.Write("device.key", chain.Device.Key!.ExportUnencryptedPem(iUnderstandTheKeyIsNotProtected: true));
        OpenSsl.Run(_temp.Path, "pkcs12", "-export", "-in", "device.pem", "-inkey", "device.key", "-passout", "pass:Pässword 1", "-macalg", "sha256", "-iter", "2048", "-maciter", "-out", "openssl.pfx");
        var reader = new AsnReader(_temp.ReadBytes("openssl.pfx"), AsnEncodingRules.BER).ReadSequence();
        reader.ReadInteger();
        var authSafe = reader.ReadSequence();
        authSafe.ReadObjectIdentifier();
        var content = authSafe.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadOctetString();
        var macData = reader.ReadSequence();
        var digestInfo = macData.ReadSequence();
        digestInfo.ReadSequence();
        var mac = digestInfo.ReadOctetString();
        var salt = macData.ReadOctetString();
        var iterations = (int)macData.ReadInteger();

        var key = BatchEncryption.Pkcs12MacKey("Pässword 1", salt, iterations);
        Assert.Equal(Convert.ToHexString(mac), Convert.ToHexString(HMACSHA256.HashData(key, content)));
    }

    [Fact]
    public void Edge_device_CA_is_a_CA_named_id_dot_ca_that_openssl_accepts_as_an_issuer()
    {
        // The recommended intermediate has path length 0 (devices only), so the root signs the edge CA here.
        using var chain = new TestChain(RealClock());
        AssertFails(PkiErrorCode.PathLengthExceeded, () => chain.Ca.IssueEdgeDeviceCaCertificate(new EdgeDeviceCaRequest("edge-00"), chain.IntermediateCredential), "path length 0");
        using var edge = chain.Ca.IssueEdgeDeviceCaCertificate(new EdgeDeviceCaRequest("edge-01"), chain.RootCredential);
        Assert.Equal(CertificateKind.EdgeDeviceCa, edge.Kind);
        Assert.Equal("edge-01.ca", SubjectNames.GetCommonName(edge.Certificate));
        var basic = OnlyExtension<X509BasicConstraintsExtension>(edge.Certificate);
        Assert.True(basic.CertificateAuthority && basic.Critical && basic.HasPathLengthConstraint && basic.PathLengthConstraint == 0);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, OnlyExtension<X509KeyUsageExtension>(edge.Certificate).KeyUsages);
        Assert.Equal(TimeSpan.FromDays(365) + CertificateAuthority.Backdate, NotAfter(edge.Certificate) - NotBefore(edge.Certificate));

        // It can sign the edge's workload certificates, and openssl verifies the chain down through it.
        using var edgeCredential = CaCredential.Create(edge.Certificate, edge.Key!, edge.IssuerChain);
        using var workload = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("edge-01-module"), edgeCredential);
        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("untrusted.pem", edge.Certificate);
        _temp.WritePem("workload.pem", workload.Certificate);
        Assert.True(OpenSsl.TryRun(_temp.Path, "verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted", "untrusted.pem", "workload.pem").Succeeded);

        // An issuer with path length 0 may not sign it.
        AssertFails(PkiErrorCode.PathLengthExceeded, () => chain.Ca.IssueEdgeDeviceCaCertificate(new EdgeDeviceCaRequest("edge-02"), edgeCredential), "path length 0");
    }

    [Fact]
    public void Default_validity_cut_to_the_issuer_is_silent_and_a_requested_one_warns()
    {
        var clock = FixedClock();
        using var chain = new TestChain(clock, ProfilePreset.CertGenCompatible, KeyAlgorithm.EcdsaP256);
        clock.Advance(TimeSpan.FromMinutes(1)); // the intermediate now ends before a new 30-day device would

        using var byDefault = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("dev-a") { Preset = ProfilePreset.CertGenCompatible, KeyAlgorithm = KeyAlgorithm.EcdsaP256 }, chain.IntermediateCredential);
        Assert.Empty(byDefault.Warnings);
        Assert.Equal(chain.Intermediate.Certificate.NotAfter, byDefault.Certificate.NotAfter);

        using var folderDefault = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("dev-b") { Preset = ProfilePreset.CertGenCompatible, KeyAlgorithm = KeyAlgorithm.EcdsaP256, DefaultValidity = TimeSpan.FromDays(30) }, chain.IntermediateCredential);
        Assert.Empty(folderDefault.Warnings);

        using var requested = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("dev-c") { Preset = ProfilePreset.CertGenCompatible, KeyAlgorithm = KeyAlgorithm.EcdsaP256, Validity = TimeSpan.FromDays(90) }, chain.IntermediateCredential);
        Assert.Contains("shortened", Assert.Single(requested.Warnings), StringComparison.Ordinal);
    }

    private static byte[] ToBeSigned(byte[] certificate)
    {
        var reader = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        return reader.ReadEncodedValue().ToArray();
    }

    private static (string Salt, string Iv) SaltAndIv(string pem)
    {
        var der = PemEncoding.Find(pem) is var fields ? Convert.FromBase64String(pem[fields.Base64Data]) : [];
        var algorithm = new AsnReader(der, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        algorithm.ReadObjectIdentifier();
        var parameters = algorithm.ReadSequence();
        var kdf = parameters.ReadSequence();
        kdf.ReadObjectIdentifier();
        var salt = kdf.ReadSequence().ReadOctetString();
        var cipher = parameters.ReadSequence();
        cipher.ReadObjectIdentifier();
        return (Convert.ToHexString(salt), Convert.ToHexString(cipher.ReadOctetString()));
    }
}
