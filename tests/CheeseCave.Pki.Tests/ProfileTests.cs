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
    public void Profile_has_exactly_the_intended_extensions(CertificateKind kind, ProfilePreset preset, KeyAlgorithm algorithm)
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
        // Key id only in both presets: OpenSSL's "keyid,issuer" adds issuer and serial only when it finds no key id.
        Assert.Null(aki.NamedIssuer);
        Assert.Null(aki.SerialNumber);

        if (!isCa && certGen)
        {
            var bits = NetscapeCertTypeBits(Find(c, NetscapeCertTypeOid)!, out var unused);
            Assert.Equal([0b1010_0000], bits); // SSL client (bit 0) and S/MIME (bit 2)
            Assert.Equal(5, unused);
            Assert.Equal("OpenSSL Generated Client Certificate", NetscapeComment(Find(c, NetscapeCommentOid)!));
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
    public void Preset_validities_are_the_documented_ones()
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
    public void Recommended_defaults_to_P256_when_no_key_type_is_given()
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
    public void Not_before_is_five_minutes_back_and_whole_seconds()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 5, 4, 3, 2, 1, 750, TimeSpan.Zero));
        using var root = new CertificateAuthority(clock).CreateRoot(new RootCaRequest("Clock Root"));
        Assert.Equal(new DateTimeOffset(2026, 5, 4, 2, 57, 1, TimeSpan.Zero), NotBefore(root.Certificate));
        Assert.Equal(new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.Zero).AddDays(3653), NotAfter(root.Certificate));
    }

    [Fact]
    public void Serials_are_long_positive_and_distinct()
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
    public void Validity_override_is_applied()
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
}
