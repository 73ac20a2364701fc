using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// The extension matrix of every profile under both presets and the key types, checked on the decoded certificate.
/// RSA-4096 (the certGen default) is covered once, in <see cref="CertGenDefaultsTests"/>.
/// </summary>
public sealed class ProfileTests
{
    /// <summary>The four profiles of the DPS flow; the emulator's server profile is checked in <see cref="ServerCertificateTests"/>.</summary>
    private static readonly CertificateKind[] DpsKinds = [CertificateKind.Root, CertificateKind.Intermediate, CertificateKind.Verification, CertificateKind.Device];

    /// <summary>
    /// Every kind × preset with both curves and with one RSA size; 2048 and 3072 alternate like a checkerboard, so each
    /// size meets both presets and both CA and end-entity kinds. RSA key generation is slow, hence not a full product.
    /// </summary>
    public static TheoryData<CertificateKind, ProfilePreset, KeyAlgorithm> Matrix()
    {
        var data = new TheoryData<CertificateKind, ProfilePreset, KeyAlgorithm>();
        foreach (var kind in DpsKinds)
        {
            foreach (var preset in Enum.GetValues<ProfilePreset>())
            {
                data.Add(kind, preset, KeyAlgorithm.EcdsaP256);
                data.Add(kind, preset, KeyAlgorithm.EcdsaP384);
                data.Add(kind, preset, ((int)kind + (int)preset) % 2 == 0 ? KeyAlgorithm.Rsa3072 : KeyAlgorithm.Rsa2048);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void ProfileHasExactlyTheIntendedExtensions(CertificateKind kind, ProfilePreset preset, KeyAlgorithm algorithm)
    {
        var clock = FixedClock();
        var ca = new CertificateAuthority(clock);

        // Roots under test use the algorithm under test; issuers of the other kinds are quick P-256 CAs. Device and
        // verification certificates are issued by an intermediate so that "issuer" and "issuer's issuer" differ in the AKI.
        using var root = ca.CreateRoot(new RootCaRequest("Matrix Root") { Preset = preset, KeyAlgorithm = kind == CertificateKind.Root ? algorithm : KeyAlgorithm.EcdsaP256 });
        using var rootCredential = CaCredential.Create(root.Certificate, root.Key!);
        IssuedCertificate? intermediate = null;
        try
        {
            IssuedCertificate issued;
            X509Certificate2 issuer;
            switch (kind)
            {
                case CertificateKind.Root:
                    issued = root;
                    issuer = root.Certificate;
                    break;
                case CertificateKind.Intermediate:
                    issued = intermediate = ca.CreateIntermediate(new IntermediateCaRequest("Matrix Intermediate") { Preset = preset, KeyAlgorithm = algorithm }, rootCredential);
                    issuer = root.Certificate;
                    break;
                default:
                    intermediate = ca.CreateIntermediate(new IntermediateCaRequest("Matrix Intermediate") { Preset = preset, KeyAlgorithm = KeyAlgorithm.EcdsaP256 }, rootCredential);
                    var intermediateCredential = CaCredential.Create(intermediate.Certificate, intermediate.Key!, intermediate.IssuerChain);
                    issued = kind == CertificateKind.Device
                        ? ca.IssueDeviceCertificate(new DeviceCertificateRequest("matrix-device-7") { Preset = preset, KeyAlgorithm = algorithm }, intermediateCredential)
                        : ca.CreateVerificationCertificate(new VerificationCertificateRequest("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF") { Preset = preset, KeyAlgorithm = algorithm }, intermediateCredential);
                    issuer = intermediate.Certificate;
                    break;
            }

            try
            {
                AssertProfile(issued, kind, preset, algorithm, issuer, FixedNow);
            }
            finally
            {
                if (kind is CertificateKind.Device or CertificateKind.Verification)
                {
                    issued.Dispose();
                }
            }
        }
        finally
        {
            intermediate?.Dispose();
        }
    }

    internal static void AssertProfile(IssuedCertificate issued, CertificateKind kind, ProfilePreset preset, KeyAlgorithm algorithm, X509Certificate2 issuer, DateTimeOffset now)
    {
        var c = issued.Certificate;
        var isCa = kind is CertificateKind.Root or CertificateKind.Intermediate;
        var certGen = preset == ProfilePreset.CertGenCompatible;
        Assert.Equal(kind, issued.Kind);
        Assert.Equal(3, c.Version);
        Assert.Empty(issued.Warnings);

        // Exactly these extensions, nothing else.
        var expected = new List<string> { BasicConstraintsOid, KeyUsageOid, SubjectKeyIdentifierOid, AuthorityKeyIdentifierOid };
        if (!isCa)
        {
            expected.Add(ExtendedKeyUsageOid);
            if (certGen)
            {
                expected.Add(NetscapeCertTypeOid);
                expected.Add(NetscapeCommentOid);
            }
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), ExtensionOids(c));

        // basicConstraints: critical everywhere; path length only on the recommended intermediate.
        var basic = OnlyExtension<X509BasicConstraintsExtension>(c);
        Assert.True(basic.Critical);
        Assert.Equal(isCa, basic.CertificateAuthority);
        var expectPathLength = kind == CertificateKind.Intermediate && !certGen;
        Assert.Equal(expectPathLength, basic.HasPathLengthConstraint);
        if (expectPathLength)
        {
            Assert.Equal(0, basic.PathLengthConstraint);
        }

        // keyUsage: critical, with exactly the preset's bits.
        var usage = OnlyExtension<X509KeyUsageExtension>(c);
        Assert.True(usage.Critical);
        var expectedUsage = (isCa, certGen) switch
        {
            (true, false) => X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign,
            (true, true) => X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature,
            (false, true) => X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment,
            (false, false) => algorithm.IsRsa() ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature,
        };
        Assert.Equal(expectedUsage, usage.KeyUsages);

        // EKU on leaf and verification certificates only.
        if (!isCa)
        {
            var eku = OnlyExtension<X509EnhancedKeyUsageExtension>(c);
            Assert.False(eku.Critical);
            Assert.Equal(certGen ? [ClientAuthOid, EmailProtectionOid] : new[] { ClientAuthOid }, EkuOids(c));
        }

        // SKI = SHA-1 of the key; AKI key id = the issuer's SKI.
        var ski = OnlyExtension<X509SubjectKeyIdentifierExtension>(c);
        Assert.False(ski.Critical);
        Assert.Equal(Sha1KeyId(c), ski.SubjectKeyIdentifierBytes.ToArray());
        var aki = OnlyExtension<X509AuthorityKeyIdentifierExtension>(c);
        Assert.False(aki.Critical);
        var issuerSki = OnlyExtension<X509SubjectKeyIdentifierExtension>(issuer).SubjectKeyIdentifierBytes.ToArray();
        Assert.Equal(issuerSki, aki.KeyIdentifier!.Value.ToArray());
        Assert.Equal(Sha1KeyId(issuer), issuerSki);
        if (certGen)
        {
            // keyid plus the issuer's issuer name and serial ("keyid,issuer" / "keyid:always,issuer").
            Assert.NotNull(aki.NamedIssuer);
            Assert.Equal(issuer.IssuerName.RawData, aki.NamedIssuer!.RawData);
            Assert.Equal(issuer.SerialNumberBytes.ToArray(), aki.SerialNumber!.Value.ToArray());
        }
        else
        {
            Assert.Null(aki.NamedIssuer);
            Assert.Null(aki.SerialNumber);
        }

        if (!isCa && certGen)
        {
            var bits = NetscapeCertTypeBits(Find(c, NetscapeCertTypeOid)!, out var unused);
            Assert.Equal([0b1010_0000], bits); // SSL client (bit 0) and S/MIME (bit 2)
            Assert.Equal(5, unused);
            Assert.Contains("certGen-compatible", NetscapeComment(Find(c, NetscapeCommentOid)!), StringComparison.Ordinal);
        }

        // Issuer, signature and key.
        Assert.Equal(issuer.SubjectName.RawData, c.IssuerName.RawData);
        Assert.True(SignatureVerifier.IsSignedBy(c, issuer), "The certificate is not signed by its issuer's key.");
        Assert.Equal(algorithm, KeyAlgorithms.FromPublicKey(c.PublicKey));
        Assert.NotNull(issued.Key);
        Assert.True(issued.Key!.Matches(c));
        Assert.Equal(algorithm, issued.Key.Algorithm);
        using (var issuerEc = issuer.GetECDsaPublicKey())
        {
            var expectedSignature = issuerEc is null
                ? "1.2.840.113549.1.1.11" // sha256WithRSAEncryption
                : issuerEc.KeySize == 384 ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2";
            Assert.Equal(expectedSignature, c.SignatureAlgorithm.Value);
        }

        // Serial: 16 random bytes, positive, no leading zero octet.
        var serial = c.SerialNumberBytes.ToArray();
        Assert.Equal(CertificateAuthority.SerialNumberLength, serial.Length);
        Assert.Equal(0, serial[0] & 0x80); // SerialNumberBytes is big-endian: a set top bit would make the DER INTEGER negative
        Assert.NotEqual(0, serial[0]);

        // Validity per preset, backdated five minutes.
        var policy = IssuancePolicy.For(preset);
        Assert.Equal(now - TimeSpan.FromMinutes(5), NotBefore(c));
        Assert.Equal(now + policy.ValidityFor(kind), NotAfter(c));
    }

    [Fact]
    public void PresetValiditiesAreTheDocumentedOnes()
    {
        Assert.Equal(TimeSpan.FromDays(3653), IssuancePolicy.Recommended.RootValidity);
        Assert.Equal(TimeSpan.FromDays(1826), IssuancePolicy.Recommended.IntermediateValidity);
        Assert.Equal(TimeSpan.FromDays(365), IssuancePolicy.Recommended.DeviceValidity);
        Assert.Equal(KeyAlgorithm.EcdsaP256, IssuancePolicy.Recommended.KeyAlgorithm);
        Assert.Equal(0, IssuancePolicy.Recommended.IntermediatePathLength);
        Assert.Null(IssuancePolicy.Recommended.RootPathLength);
        foreach (var kind in DpsKinds)
        {
            Assert.Equal(TimeSpan.FromDays(30), IssuancePolicy.CertGenCompatible.ValidityFor(kind));
        }

        Assert.Equal(KeyAlgorithm.Rsa4096, IssuancePolicy.CertGenCompatible.KeyAlgorithm);
        Assert.Null(IssuancePolicy.CertGenCompatible.IntermediatePathLength);
    }

    [Fact]
    public void RecommendedDefaultsToP256WhenNoKeyTypeIsGiven()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("Default Root"));
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        using var device = ca.IssueDeviceCertificate(new DeviceCertificateRequest("default-device"), credential);
        Assert.Equal(KeyAlgorithm.EcdsaP256, KeyAlgorithms.FromPublicKey(root.Certificate.PublicKey));
        Assert.Equal(KeyAlgorithm.EcdsaP256, KeyAlgorithms.FromPublicKey(device.Certificate.PublicKey));
        Assert.False(OnlyExtension<X509BasicConstraintsExtension>(root.Certificate).HasPathLengthConstraint);
    }

    [Fact]
    public void NotBeforeIsFiveMinutesBackAndWholeSeconds()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 5, 4, 3, 2, 1, 750, TimeSpan.Zero));
        using var root = new CertificateAuthority(clock).CreateRoot(new RootCaRequest("Clock Root"));
        Assert.Equal(new DateTimeOffset(2026, 5, 4, 2, 57, 1, TimeSpan.Zero), NotBefore(root.Certificate));
        Assert.Equal(new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.Zero).AddDays(3653), NotAfter(root.Certificate));
    }

    [Fact]
    public void SerialsAreLongPositiveAndDistinct()
    {
        using var chain = new TestChain(FixedClock());
        using var second = chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("device-01"), chain.IntermediateCredential);
        var serials = new[] { chain.Root.Certificate, chain.Intermediate.Certificate, chain.Device.Certificate, second.Certificate }
            .Select(c => c.SerialNumber).ToArray();
        Assert.Equal(serials.Length, serials.Distinct().Count());
        foreach (var serial in serials)
        {
            Assert.True(serial.Length >= 16, $"Serial {serial} has fewer than 64 bits.");
            Assert.True(Convert.FromHexString(serial)[0] < 0x80, $"Serial {serial} is negative in DER.");
            Assert.NotEqual(0, Convert.FromHexString(serial)[0]);
        }

        for (var i = 0; i < 2000; i++)
        {
            var raw = CertificateAuthority.NewSerialNumber();
            Assert.InRange(raw[0], 0x40, 0x7F);
        }
    }

    [Fact]
    public void ValidityOverrideIsApplied()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("Override Root") { Validity = TimeSpan.FromDays(100) });
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        using var device = ca.IssueDeviceCertificate(new DeviceCertificateRequest("override-device") { Validity = TimeSpan.FromDays(2) }, credential);
        Assert.Equal(FixedNow.AddDays(100), NotAfter(root.Certificate));
        Assert.Equal(FixedNow.AddDays(2), NotAfter(device.Certificate));
        AssertFails(PkiErrorCode.InvalidInput,
            () => ca.IssueDeviceCertificate(new DeviceCertificateRequest("override-device") { Validity = TimeSpan.Zero }, credential), "positive");
    }

    [Fact]
    public void ChildValidityIsClampedToTheIssuerWithAWarning()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("Short Root") { Validity = TimeSpan.FromDays(10) });
        using var rootCredential = CaCredential.Create(root.Certificate, root.Key!);
        using var intermediate = ca.CreateIntermediate(new IntermediateCaRequest("Short Intermediate"), rootCredential);
        Assert.Equal(NotAfter(root.Certificate), NotAfter(intermediate.Certificate));
        var warning = Assert.Single(intermediate.Warnings);
        Assert.Contains("shortened", warning, StringComparison.Ordinal);
        Assert.Contains("Short Root", warning, StringComparison.Ordinal);

        using var intermediateCredential = CaCredential.Create(intermediate.Certificate, intermediate.Key!, intermediate.IssuerChain);
        using var device = ca.IssueDeviceCertificate(new DeviceCertificateRequest("clamped-device"), intermediateCredential);
        Assert.Equal(NotAfter(root.Certificate), NotAfter(device.Certificate));
        Assert.Single(device.Warnings);

        // A child that fits needs no warning.
        using var fits = ca.IssueDeviceCertificate(new DeviceCertificateRequest("short-device") { Validity = TimeSpan.FromDays(3) }, intermediateCredential);
        Assert.Empty(fits.Warnings);
        Assert.Equal(FixedNow.AddDays(3), NotAfter(fits.Certificate));
    }

    [Fact]
    public void ExpiredIssuerCannotSign()
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
    public void IssuerNotYetValidIsRefused()
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
    public void IntermediateWithTheRootsCommonNameIsRefused(string subject)
    {
        using var chain = new TestChain(FixedClock());
        AssertFails(PkiErrorCode.DuplicateName, () => chain.Ca.CreateIntermediate(new IntermediateCaRequest(subject), chain.RootCredential), "CheeseCave Test Root");
    }

    [Fact]
    public void DeviceNamedLikeItsCaIsRefused()
    {
        var ca = new CertificateAuthority(FixedClock());
        using var root = ca.CreateRoot(new RootCaRequest("cave-ca"));
        using var credential = CaCredential.Create(root.Certificate, root.Key!);
        AssertFails(PkiErrorCode.DuplicateName, () => ca.IssueDeviceCertificate(new DeviceCertificateRequest("cave-ca"), credential), "cave-ca");
    }

    [Fact]
    public void PathLengthZeroIntermediateCannotSignAnotherCa()
    {
        using var chain = new TestChain(FixedClock());
        Assert.Equal(0, OnlyExtension<X509BasicConstraintsExtension>(chain.Intermediate.Certificate).PathLengthConstraint);
        AssertFails(PkiErrorCode.PathLengthExceeded,
            () => chain.Ca.CreateIntermediate(new IntermediateCaRequest("Sub Intermediate"), chain.IntermediateCredential), "path length 0");
    }

    [Fact]
    public void PathLengthsBelowAConstrainedRootAreLimited()
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
    public void VerificationCertificateCarriesTheCodeAndIsSignedByExactlyThatCa()
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
    public void VerificationForTheIntermediateSignedByTheRootIsWrongSigner()
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
    public void IssuedChainsExposeDeviceAndFullChains()
    {
        using var chain = new TestChain(FixedClock());
        Assert.Equal([chain.Intermediate.Certificate, chain.Root.Certificate], chain.Device.IssuerChain);
        Assert.Equal([chain.Device.Certificate, chain.Intermediate.Certificate], chain.Device.DeviceChain);
        Assert.Equal([chain.Device.Certificate, chain.Intermediate.Certificate, chain.Root.Certificate], chain.Device.FullChain);
        Assert.Equal([chain.Intermediate.Certificate, chain.Root.Certificate], chain.IntermediateCredential.Chain);
        Assert.Empty(chain.Root.IssuerChain);
    }

    [Fact]
    public void CaCredentialRefusesAnIssuerChainOutOfOrder()
    {
        using var chain = new TestChain(FixedClock());
        using var other = chain.Ca.CreateRoot(new RootCaRequest("Unrelated Root"));
        AssertFails(PkiErrorCode.WrongSigner,
            () => CaCredential.Create(chain.Intermediate.Certificate, chain.Intermediate.Key!, [other.Certificate]), "not signed by");
    }

    [Fact]
    public void SubjectsAreParsedAsNameOrDistinguishedName()
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
    public void UpperCaseRegistrationIdIsIssuedWithAWarning()
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
    public void SignatureVerifierRejectsAForeignKey()
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
    public void KeyAlgorithmNamesRoundTrip()
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
