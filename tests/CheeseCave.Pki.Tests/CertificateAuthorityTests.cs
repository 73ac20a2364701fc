using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// The issuance rules of <see cref="CertificateAuthority"/> and <see cref="CaCredential"/> (validity clamped to the
/// issuer, expired or not-yet-valid issuers, duplicate names, path lengths, verification signers, chain order) and the
/// helpers they rely on: subject parsing, registration IDs, signature checks and key type names.
/// </summary>
public sealed class CertificateAuthorityTests
{

    [Fact]
    public void Child_validity_is_clamped_to_the_issuer_with_a_warning()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("Short Root") { Validity = TimeSpan.FromDays(10) });
        using var rootCredential = CaCredential.Create(root.Certificate, root.Key!);
        using var intermediate = ca.CreateIntermediate(new IntermediateCaRequest("Short Intermediate") { Validity = TimeSpan.FromDays(365) }, rootCredential);
        Assert.Equal(NotAfter(root.Certificate), NotAfter(intermediate.Certificate));
        var warning = Assert.Single(intermediate.Warnings);
        Assert.Contains("shortened", warning, StringComparison.Ordinal);
        Assert.Contains("Short Root", warning, StringComparison.Ordinal);

        using var intermediateCredential = CaCredential.Create(intermediate.Certificate, intermediate.Key!, intermediate.IssuerChain);
        using var device = ca.IssueDeviceCertificate(new DeviceCertificateRequest("clamped-device") { Validity = TimeSpan.FromDays(365) }, intermediateCredential);
        Assert.Equal(NotAfter(root.Certificate), NotAfter(device.Certificate));
        Assert.Single(device.Warnings);

        // The preset's default is cut just as far, without a warning: nobody asked for that length.
        using var byDefault = ca.IssueDeviceCertificate(new DeviceCertificateRequest("default-device"), intermediateCredential);
        Assert.Equal(NotAfter(root.Certificate), NotAfter(byDefault.Certificate));
        Assert.Empty(byDefault.Warnings);

        // A child that fits needs no warning.
        using var fits = ca.IssueDeviceCertificate(new DeviceCertificateRequest("short-device") { Validity = TimeSpan.FromDays(3) }, intermediateCredential);
        Assert.Empty(fits.Warnings);
        Assert.Equal(FixedNow.AddDays(3), NotAfter(fits.Certificate));
    }

    [Fact]
    public void Expired_issuer_cannot_sign()
    {
        var clock = FixedClock();
        var ca = new CertificateAuthority(clock);
        using var root = ca.CreateRoot(new RootCaRequest("Expiring Root") { Validity = TimeSpan.FromDays(10) });
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        clock.Advance(TimeSpan.FromDays(9));
        using (ca.IssueDeviceCertificate(new DeviceCertificateRequest("still-fine"), credential))
        {
        }

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        AssertFails(PkiErrorCode.IssuerExpired, () => ca.IssueDeviceCertificate(new DeviceCertificateRequest("too-late"), credential), "expired", "Expiring Root");
        AssertFails(PkiErrorCode.IssuerExpired, () => ca.CreateIntermediate(new IntermediateCaRequest("Too Late CA"), credential), "expired");
        AssertFails(PkiErrorCode.IssuerExpired, () => ca.CreateVerificationCertificate(new VerificationCertificateRequest("ABC123"), credential), "expired");
    }

    [Fact]
    public void Issuer_not_yet_valid_is_refused()
    {
        var clock = FixedClock();
        var ca = new CertificateAuthority(clock);
        using var root = ca.CreateRoot(new RootCaRequest("Future Root"));
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        var slowClockCa = new CertificateAuthority(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(FixedNow - TimeSpan.FromHours(1)));
        AssertFails(PkiErrorCode.IssuerExpired, () => slowClockCa.IssueDeviceCertificate(new DeviceCertificateRequest("early-device"), credential), "clock");
    }

    [Theory]
    [InlineData("CheeseCave Test Root")]
    [InlineData("cheesecave test root")]
    [InlineData("CN=CheeseCave Test Root, O=Other")]
    public void Intermediate_with_the_root_s_common_name_is_refused(string subject)
    {
        using var chain = new TestChain(FixedClock());
        AssertFails(PkiErrorCode.DuplicateName, () => chain.Ca.CreateIntermediate(new IntermediateCaRequest(subject), chain.RootCredential), "CheeseCave Test Root");
    }

    [Fact]
    public void Device_named_like_its_CA_is_refused()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("cave-ca"));
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        AssertFails(PkiErrorCode.DuplicateName, () => ca.IssueDeviceCertificate(new DeviceCertificateRequest("cave-ca"), credential), "cave-ca");
    }

    [Fact]
    public void Path_length_zero_intermediate_cannot_sign_another_CA()
    {
        using var chain = new TestChain(FixedClock());
        Assert.Equal(0, OnlyExtension<X509BasicConstraintsExtension>(chain.Intermediate.Certificate).PathLengthConstraint);
        AssertFails(PkiErrorCode.PathLengthExceeded,
            () => chain.Ca.CreateIntermediate(new IntermediateCaRequest("Sub Intermediate"), chain.IntermediateCredential), "path length 0");
    }

    [Fact]
    public void Path_lengths_below_a_constrained_root_are_limited()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("Path Root") { PathLength = 2 });
        Assert.Equal(2, OnlyExtension<X509BasicConstraintsExtension>(root.Certificate).PathLengthConstraint);
        using var credential = CaCredential.Create(root.Certificate, root.Key!);

        // Unconstrained is narrowed to what the root allows below it; an explicit larger value is refused.
        using var unconstrained = ca.CreateIntermediate(new IntermediateCaRequest("Wide Intermediate") { UnconstrainedPathLength = true }, credential);
        Assert.Equal(1, OnlyExtension<X509BasicConstraintsExtension>(unconstrained.Certificate).PathLengthConstraint);
        AssertFails(PkiErrorCode.PathLengthExceeded,
            () => ca.CreateIntermediate(new IntermediateCaRequest("Too Wide") { PathLength = 2 }, credential), "allows");

        using var unlimitedRoot = ca.CreateRoot(new RootCaRequest("Free Root") { PathLength = 3, UnconstrainedPathLength = true });
        Assert.False(OnlyExtension<X509BasicConstraintsExtension>(unlimitedRoot.Certificate).HasPathLengthConstraint);
        AssertFails(PkiErrorCode.InvalidInput, () => ca.CreateRoot(new RootCaRequest("Negative Root") { PathLength = -1 }), "negative");
    }

    [Fact]
    public void Verification_certificate_carries_the_code_and_is_signed_by_exactly_that_CA()
    {
        using var chain = new TestChain(FixedClock());
        const string Code = "9F2A8C1D4E5B6A7F8091A2B3C4D5E6F708192A3B4C5D6E7F";
        using var byRoot = chain.Ca.CreateVerificationCertificate(
            new VerificationCertificateRequest("  " + Code + " ") { CertificateBeingVerified = chain.Root.Certificate }, chain.RootCredential);
        Assert.Equal(Code, SubjectNames.GetCommonName(byRoot.Certificate));
        Assert.Equal("CN=" + Code, byRoot.Certificate.Subject);
        Assert.True(SignatureVerifier.IsSignedBy(byRoot.Certificate, chain.Root.Certificate));
        Assert.False(SignatureVerifier.IsSignedBy(byRoot.Certificate, chain.Intermediate.Certificate));
        Assert.Equal(CertificateKind.Verification, byRoot.Kind);

        using var byIntermediate = chain.Ca.CreateVerificationCertificate(
            new VerificationCertificateRequest(Code) { CertificateBeingVerified = chain.Intermediate.Certificate }, chain.IntermediateCredential);
        Assert.True(SignatureVerifier.IsSignedBy(byIntermediate.Certificate, chain.Intermediate.Certificate));
        Assert.False(SignatureVerifier.IsSignedBy(byIntermediate.Certificate, chain.Root.Certificate));
        Assert.Equal(chain.Intermediate.Certificate.SubjectName.RawData, byIntermediate.Certificate.IssuerName.RawData);
    }

    [Fact]
    public void Verification_for_the_intermediate_signed_by_the_root_is_wrong_signer()
    {
        // IH400053: the intermediate was uploaded to DPS, but the root was asked to sign its proof of possession.
        using var chain = new TestChain(FixedClock());
        AssertFails(PkiErrorCode.WrongSigner,
            () => chain.Ca.CreateVerificationCertificate(
                new VerificationCertificateRequest("ABCDEF0123") { CertificateBeingVerified = chain.Intermediate.Certificate }, chain.RootCredential),
            "IH400053", "CheeseCave Test Intermediate");

        // A different certificate with the same subject and key is still a different certificate.
        using var twin = chain.Ca.CreateRoot(new RootCaRequest("CheeseCave Test Root"));
        AssertFails(PkiErrorCode.WrongSigner,
            () => chain.Ca.CreateVerificationCertificate(
                new VerificationCertificateRequest("ABCDEF0123") { CertificateBeingVerified = twin.Certificate }, chain.RootCredential));
    }

    [Fact]
    public void Issued_chains_expose_device_and_full_chains()
    {
        using var chain = new TestChain(FixedClock());
        Assert.Equal([chain.Intermediate.Certificate, chain.Root.Certificate], chain.Device.IssuerChain);
        Assert.Equal([chain.Device.Certificate, chain.Intermediate.Certificate], chain.Device.DeviceChain);
        Assert.Equal([chain.Device.Certificate, chain.Intermediate.Certificate, chain.Root.Certificate], chain.Device.FullChain);
        Assert.Equal([chain.Intermediate.Certificate, chain.Root.Certificate], chain.IntermediateCredential.Chain);
        Assert.Empty(chain.Root.IssuerChain);
    }

    [Fact]
    public void CaCredential_refuses_an_issuer_chain_out_of_order()
    {
        using var chain = new TestChain(FixedClock());
        using var other = chain.Ca.CreateRoot(new RootCaRequest("Unrelated Root"));
        AssertFails(PkiErrorCode.WrongSigner,
            () => CaCredential.Create(chain.Intermediate.Certificate, chain.Intermediate.Key!, [other.Certificate]), "not signed by");
    }

    [Fact]
    public void Subjects_are_parsed_as_name_or_distinguished_name()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var plain = ca.CreateRoot(new RootCaRequest("Contoso Root CA"));
        Assert.Equal("CN=Contoso Root CA", plain.Certificate.Subject);
        using var dn = ca.CreateRoot(new RootCaRequest("CN=Contoso Root CA, O=Contoso"));
        Assert.Equal("Contoso Root CA", SubjectNames.GetCommonName(dn.Certificate));
        Assert.Contains("O=Contoso", dn.Certificate.Subject, StringComparison.Ordinal);
        AssertFails(PkiErrorCode.InvalidSubject, () => ca.CreateRoot(new RootCaRequest("   ")), "empty");
        AssertFails(PkiErrorCode.InvalidSubject, () => ca.CreateRoot(new RootCaRequest("O=Contoso")), "no CN");
        AssertFails(PkiErrorCode.InvalidSubject, () => ca.CreateRoot(new RootCaRequest(new string('r', 65))), "64");
    }

    [Fact]
    public void Upper_case_registration_id_is_issued_with_a_warning()
    {
        using var chain = new TestChain(FixedClock());
        using var device = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("Device-Upper"), chain.IntermediateCredential);
        Assert.Equal("CN=Device-Upper", device.Certificate.Subject);
        var warning = Assert.Single(device.Warnings);
        Assert.Contains("upper-case", warning, StringComparison.Ordinal);
        var check = RegistrationIds.Check("Device-Upper");
        Assert.True(check.IsValid);
        Assert.Single(check.Warnings);
        Assert.Empty(RegistrationIds.Check("device-lower:01.a_b-c").Warnings);
        Assert.True(RegistrationIds.Check("device-lower:01.a_b-c").IsValid);
    }

    [Fact]
    public void SignatureVerifier_rejects_a_foreign_key()
    {
        using var chain = new TestChain(FixedClock());
        Assert.True(SignatureVerifier.IsSignedBy(chain.Device.Certificate, chain.Intermediate.Certificate));
        Assert.False(SignatureVerifier.IsSignedBy(chain.Device.Certificate, chain.Root.Certificate));
        Assert.True(SignatureVerifier.IsSelfSigned(chain.Root.Certificate));
        Assert.False(SignatureVerifier.IsSelfSigned(chain.Intermediate.Certificate));
        var tampered = chain.Device.Certificate.RawData;
        tampered[^1] ^= 0x01;
        Assert.False(SignatureVerifier.IsSignedBy(tampered, chain.Intermediate.Certificate.PublicKey));
        Assert.False(SignatureVerifier.IsSignedBy([0x30, 0x03, 0x02, 0x01, 0x00], chain.Intermediate.Certificate.PublicKey));
    }

    [Fact]
    public void Key_algorithm_names_round_trip()
    {
        foreach (var algorithm in Enum.GetValues<KeyAlgorithm>())
        {
            Assert.Equal(algorithm, KeyAlgorithms.Parse(algorithm.ToName()));
        }

        Assert.Equal(KeyAlgorithm.EcdsaP256, KeyAlgorithms.Parse(" P256 "));
        AssertFails(PkiErrorCode.UnsupportedKey, () => KeyAlgorithms.Parse("dsa"), "dsa");
        Assert.Equal(ProfilePreset.CertGenCompatible, IssuancePolicy.ParsePreset("certgen-compatible"));
        AssertFails(PkiErrorCode.InvalidInput, () => IssuancePolicy.ParsePreset("fancy"), "fancy");
        Assert.Equal(HashAlgorithmName.SHA384, KeyAlgorithm.EcdsaP384.SignatureHash());
    }
}
