using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.Samples;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// One table of the ways users get inputs wrong. Every row must fail with its own <see cref="PkiErrorCode"/>, a
/// one-line message, and words in the message that name the cause.
/// </summary>
public sealed class BadInputTests
{
    private sealed record Case(Action Act, PkiErrorCode Code, params string[] Mentions);

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        // CertificateReader
        ["certificate: truncated PEM (no END line)"] = new(
            () => CertificateReader.Read(Utf8(Get.CertificatePem[..Get.CertificatePem.IndexOf("-----END", StringComparison.Ordinal)])),
            PkiErrorCode.UnreadableCertificate, "END line", "truncated"),
        ["certificate: wrong PEM label (PUBLIC KEY)"] = new(
            () => CertificateReader.Read(Utf8(PemEncoding.WriteString("PUBLIC KEY", Get.Chain.Device.Certificate.PublicKey.ExportSubjectPublicKeyInfo()))),
            PkiErrorCode.UnreadableCertificate, "PUBLIC KEY"),
        ["certificate: CSR given instead"] = new(
            () => CertificateReader.Read(Utf8(Get.CsrPem)), PkiErrorCode.UnreadableCertificate, "signing request"),
        ["certificate: garbage base64"] = new(
            () => CertificateReader.Read(Utf8("this is *not* base64 at all!")), PkiErrorCode.UnreadableCertificate, "base64"),
        ["certificate: damaged base64 inside PEM"] = new(
            () => CertificateReader.Read(Utf8("-----BEGIN CERTIFICATE-----\nMIIB$$$$\n-----END CERTIFICATE-----\n")),
            PkiErrorCode.UnreadableCertificate, "base64"),
        ["certificate: empty input"] = new(() => CertificateReader.Read([]), PkiErrorCode.UnreadableCertificate, "empty"),
        ["certificate: only whitespace"] = new(() => CertificateReader.Read(Utf8(" \r\n\t ")), PkiErrorCode.UnreadableCertificate, "no content"),
        ["certificate: random binary"] = new(
            () => CertificateReader.Read([.. Enumerable.Range(0, 256).Select(i => (byte)(0xFF - (i * 7 % 64)))]),
            PkiErrorCode.UnreadableCertificate, "neither"),
        ["certificate: binary that starts like DER"] = new(
            () => CertificateReader.Read([0x30, 0x82, 0x01, 0x00, .. Enumerable.Repeat((byte)0xA5, 60)]),
            PkiErrorCode.UnreadableCertificate, "damaged"),
        ["certificate: base64 of something else"] = new(
            () => CertificateReader.Read(Utf8(Convert.ToBase64String(Utf8("hello, this is not a certificate")))),
            PkiErrorCode.UnreadableCertificate, "damaged"),

        // CsrReader / SignCsr
        ["csr: bad signature"] = new(() => SignCsr(Get.CsrWithBadSignature()), PkiErrorCode.BadCsrSignature, "signature"),
        ["csr: asks for CA:true"] = new(
            () => SignCsr(Csr(() =>
            {
                var request = new CertificateRequest("CN=ca-wannabe", ECDsa.Create(ECCurve.NamedCurves.nistP256), HashAlgorithmName.SHA256);
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
                return request;
            })),
            PkiErrorCode.CsrRequestsCa, "CA:TRUE"),
        ["csr: RSA-1024 key"] = new(
            () => SignCsr(Csr(() => new CertificateRequest("CN=weak-device", RSA.Create(1024), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))),
            PkiErrorCode.WeakKey, "RSA-1024", "too weak"),
        ["csr: P-521 key"] = new(
            () => SignCsr(Csr(() => new CertificateRequest("CN=odd-curve", ECDsa.Create(ECCurve.NamedCurves.nistP521), HashAlgorithmName.SHA256))),
            PkiErrorCode.UnsupportedKey, "curve"),
        ["csr: certificate PEM given instead"] = new(
            () => SignCsr(Utf8(Get.CertificatePem)), PkiErrorCode.InvalidInput, "certificate, not a request"),
        ["csr: truncated PEM"] = new(
            () => SignCsr(Utf8(Get.CsrPem[..Get.CsrPem.IndexOf("-----END", StringComparison.Ordinal)])), PkiErrorCode.InvalidInput, "END line"),
        ["csr: empty input"] = new(() => SignCsr([]), PkiErrorCode.InvalidInput, "empty"),
        ["csr: garbage base64"] = new(() => SignCsr(Utf8("%%% not a csr %%%")), PkiErrorCode.InvalidInput, "base64"),
        ["csr: DER that is not a request"] = new(() => SignCsr(Get.Chain.Device.Certificate.RawData), PkiErrorCode.InvalidInput, "PKCS#10"),
        ["csr: CN is not a registration id"] = new(
            () => SignCsr(Csr(() => new CertificateRequest("CN=Device 1", ECDsa.Create(ECCurve.NamedCurves.nistP256), HashAlgorithmName.SHA256))),
            PkiErrorCode.InvalidRegistrationId, "registration ID"),

        // Registration IDs (the device CN)
        ["registration id: empty"] = new(() => IssueDevice(string.Empty), PkiErrorCode.InvalidRegistrationId, "empty"),
        ["registration id: 65 characters"] = new(() => IssueDevice(new string('a', 65)), PkiErrorCode.InvalidRegistrationId, "65 characters", "at most 64"),
        ["registration id: contains a space"] = new(() => IssueDevice("my device"), PkiErrorCode.InvalidRegistrationId, "a space"),
        ["registration id: contains a slash"] = new(() => IssueDevice("site/device-1"), PkiErrorCode.InvalidRegistrationId, "'/'"),
        ["registration id: ends with a dot"] = new(() => IssueDevice("device-1."), PkiErrorCode.InvalidRegistrationId, "ends with '.'"),
        ["registration id: ends with an underscore"] = new(() => IssueDevice("device-1_"), PkiErrorCode.InvalidRegistrationId, "ends with '_'"),
        ["registration id: via Require"] = new(() => RegistrationIds.Require("bad id!"), PkiErrorCode.InvalidRegistrationId, "'!'"),

        // Verification codes
        ["verification code: empty"] = new(() => Verify("   "), PkiErrorCode.InvalidVerificationCode, "empty"),
        ["verification code: with spaces"] = new(() => Verify("ABCD 1234 EF"), PkiErrorCode.InvalidVerificationCode, "a space"),
        ["verification code: too long"] = new(() => Verify(new string('A', 65)), PkiErrorCode.InvalidVerificationCode, "65 characters"),
        ["verification code: pasted with punctuation"] = new(() => Verify("code=ABCD"), PkiErrorCode.InvalidVerificationCode, "'='"),

        // Passphrases and keys
        ["pfx: wrong password"] = new(
            () => CertificateReader.Read(CertificateExport.ToPfx(Get.Chain.Device, "the right password"), "the wrong password"),
            PkiErrorCode.WrongPassphrase, "password is wrong"),
        ["pfx: no password given"] = new(
            () => CertificateReader.Read(CertificateExport.ToPfx(Get.Chain.Device, "the right password")),
            PkiErrorCode.WrongPassphrase, "give its password"),
        ["pfx export: empty password"] = new(
            () => CertificateExport.ToPfx(Get.Chain.Device, string.Empty), PkiErrorCode.InvalidInput, "password"),
        ["pfx export: key of another certificate"] = new(
            () => CertificateExport.ToPfx(Get.Chain.Device.Certificate, Get.Chain.Root.Key!, [], "a password"), PkiErrorCode.KeyMismatch, "does not belong"),
        ["key: encrypted, wrong passphrase"] = new(
            () => PrivateKey.ImportPem(Get.Chain.Device.Key!.ExportEncryptedPem("the right passphrase"), "the wrong passphrase"),
            PkiErrorCode.WrongPassphrase, "passphrase is wrong"),
        ["key: encrypted RSA, wrong passphrase"] = new(
            () =>
            {
                using var rsa = PrivateKey.Generate(KeyAlgorithm.Rsa2048);
                PrivateKey.ImportPem(rsa.ExportEncryptedPem("the right passphrase"), "the wrong passphrase");
            },
            PkiErrorCode.WrongPassphrase, "passphrase is wrong"),
        ["key: encrypted with more iterations than the cap"] = new(
            () => PrivateKey.ImportPem(KeyDerivationLimitsTests.EncryptedKeyPem(30_000_000), "any passphrase"),
            PkiErrorCode.TooManyIterations, "at most 1,000,000"),
        ["key: encrypted, no passphrase"] = new(
            () => PrivateKey.ImportPem(Get.Chain.Device.Key!.ExportEncryptedPem("the right passphrase"), null),
            PkiErrorCode.WrongPassphrase, "passphrase is needed"),
        ["key: certificate and encrypted key, wrong passphrase"] = new(
            () => CertificateReader.Read(Utf8(Get.CertificatePem + Get.Chain.Device.Key!.ExportEncryptedPem("the right passphrase")), "the wrong passphrase"),
            PkiErrorCode.WrongPassphrase, "passphrase"),
        ["key: legacy Proc-Type 4,ENCRYPTED (certGen.sh)"] = new(
            () => PrivateKey.ImportPem(
                OpenSsl.Run(Path.GetTempPath(), "genrsa", "-traditional", "-aes256", "-passout", "pass:123456789012", "2048"), "123456789012"),
            PkiErrorCode.UnreadableKey, "Proc-Type", "openssl pkcs8 -topk8"),
        ["key: a certificate instead of a key"] = new(
            () => PrivateKey.ImportPem(Get.CertificatePem, null), PkiErrorCode.UnreadableKey, "No private key found"),
        ["key: export without a passphrase"] = new(
            () => Get.Chain.Device.Key!.ExportEncryptedPem(string.Empty), PkiErrorCode.InvalidInput, "passphrase"),
        ["key: clear-text export without consent"] = new(
            () => Get.Chain.Device.Key!.ExportUnencryptedPem(false), PkiErrorCode.InvalidInput, "unencrypted"),
        ["passphrase: too short"] = new(
            () => Passphrases.RequireStrongEnough("short", "--passphrase"), PkiErrorCode.InvalidInput, "5 characters", "at least 12"),

        // CA credentials
        ["credential: key of another certificate"] = new(
            () => CaCredential.Create(Get.Chain.Root.Certificate, Get.Chain.Intermediate.Key!), PkiErrorCode.KeyMismatch, "does not belong", "CheeseCave Test Root"),
        ["credential: a leaf as issuer"] = new(
            () => CaCredential.Create(Get.Chain.Device.Certificate, Get.Chain.Device.Key!), PkiErrorCode.IssuerNotCa, "not a CA", "device-01"),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_bad_input_is_refused_with_its_own_code_and_a_one_line_reason(string name)
    {
        var @case = Cases[name];
        TestPki.AssertFails(@case.Code, @case.Act, @case.Mentions);
    }

    [Fact]
    public void The_table_covers_every_input_error_code()
    {
        // Codes raised by issuance rules rather than by bad input are covered in ProfileTests.
        var covered = Cases.Values.Select(c => c.Code).ToHashSet();
        var issuanceOnly = new[] { PkiErrorCode.InvalidSubject, PkiErrorCode.WrongSigner, PkiErrorCode.IssuerExpired, PkiErrorCode.PathLengthExceeded, PkiErrorCode.DuplicateName };
        Assert.Empty(Enum.GetValues<PkiErrorCode>().Except(covered).Except(issuanceOnly));
    }

    [Fact]
    public void Valid_inputs_next_to_the_bad_ones_are_accepted()
    {
        // The rows above would pass trivially if everything failed; the same paths succeed with good input.
        using var device = IssueDeviceResult("device-1.a_b:c-d");
        Assert.Equal("CN=device-1.a_b:c-d", device.Certificate.Subject);
        using var signed = SignCsrResult(Get.CsrDer);
        Assert.Equal("CN=csr-device", signed.Certificate.Subject);
        using var verification = VerifyResult(new string('A', 64));
        Assert.Equal(64, SubjectNames.GetCommonName(verification.Certificate)!.Length);
        using var read = CertificateReader.Read(CertificateExport.ToPfx(Get.Chain.Device, "the right password"), "the right password");
        Assert.True(read.Key!.Matches(Get.Chain.Device.Certificate));
        using var key = PrivateKey.ImportPem(Get.Chain.Device.Key!.ExportEncryptedPem("the right passphrase"), "the right passphrase");
        Assert.True(key.Matches(Get.Chain.Device.Certificate));
        Passphrases.RequireStrongEnough(Passphrases.Generate(), "generated");
    }

    private static void SignCsr(byte[] csr) => SignCsrResult(csr).Dispose();

    private static IssuedCertificate SignCsrResult(byte[] csr) => Get.Chain.Ca.SignCsr(new CsrSigningRequest(csr), Get.Chain.IntermediateCredential);

    private static void IssueDevice(string registrationId) => IssueDeviceResult(registrationId).Dispose();

    private static IssuedCertificate IssueDeviceResult(string registrationId) =>
        Get.Chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest(registrationId), Get.Chain.IntermediateCredential);

    private static void Verify(string code) => VerifyResult(code).Dispose();

    private static IssuedCertificate VerifyResult(string code) =>
        Get.Chain.Ca.CreateVerificationCertificate(new VerificationCertificateRequest(code), Get.Chain.RootCredential);
}
