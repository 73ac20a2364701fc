using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// Recommended: ECDSA P-256, long-lived CAs with path lengths, one-year devices, the minimal DPS extension set.
/// CertGenCompatible: what Microsoft's certGen.sh produces (RSA-4096, 30 days, its extension set) for people who
/// follow the Learn module literally and want byte-for-byte comparable certificates.
/// </summary>
public enum ProfilePreset
{
    Recommended,
    CertGenCompatible,
}

public enum CertificateKind
{
    Root,
    Intermediate,
    Verification,
    Device,

    /// <summary>A TLS server certificate (the emulator's endpoints); not part of the DPS flow.</summary>
    Server,

    /// <summary>An IoT Edge device CA (certGen's create_edge_device_certificate): CA:TRUE, signs the edge's workload certificates.</summary>
    EdgeDeviceCa,
}

/// <summary>Defaults per preset; every value can be overridden per request.</summary>
public sealed record IssuancePolicy(
    ProfilePreset Preset,
    KeyAlgorithm KeyAlgorithm,
    TimeSpan RootValidity,
    TimeSpan IntermediateValidity,
    TimeSpan DeviceValidity,
    TimeSpan VerificationValidity,
    int? RootPathLength,
    int? IntermediatePathLength)
{
    public static IssuancePolicy Recommended { get; } = new(
        ProfilePreset.Recommended,
        KeyAlgorithm.EcdsaP256,
        RootValidity: TimeSpan.FromDays(3653),          // 10 years
        IntermediateValidity: TimeSpan.FromDays(1826),  // 5 years
        DeviceValidity: TimeSpan.FromDays(365),
        VerificationValidity: TimeSpan.FromDays(7),     // only needs to outlive the proof of possession
        RootPathLength: null,
        IntermediatePathLength: 0);

    /// <summary>certGen.sh: RSA-4096 and 30 days everywhere, no path length (certGen.sh lines 21-28, v3_ca).</summary>
    public static IssuancePolicy CertGenCompatible { get; } = new(
        ProfilePreset.CertGenCompatible,
        KeyAlgorithm.Rsa4096,
        RootValidity: TimeSpan.FromDays(30),
        IntermediateValidity: TimeSpan.FromDays(30),
        DeviceValidity: TimeSpan.FromDays(30),
        VerificationValidity: TimeSpan.FromDays(30),
        RootPathLength: null,
        IntermediatePathLength: null);

    public static IssuancePolicy For(ProfilePreset preset) =>
        preset == ProfilePreset.CertGenCompatible ? CertGenCompatible : Recommended;

    public static ProfilePreset ParsePreset(string name) => name.Trim().ToLowerInvariant() switch
    {
        "recommended" => ProfilePreset.Recommended,
        "certgen" or "certgen-compatible" => ProfilePreset.CertGenCompatible,
        _ => throw new PkiException(PkiErrorCode.InvalidInput, $"Unknown preset '{name}'. Use 'recommended' or 'certgen-compatible'."),
    };

    public TimeSpan ValidityFor(CertificateKind kind) => kind switch
    {
        CertificateKind.Root => RootValidity,
        CertificateKind.Intermediate => IntermediateValidity,
        CertificateKind.Verification => VerificationValidity,
        _ => DeviceValidity,
    };
}

/// <summary>The X.509 extensions of each profile, in one place so tests, the linter and both issuance paths agree.</summary>
internal static class ProfileExtensions
{
    internal const string NetscapeCertTypeOid = "2.16.840.1.113730.1.1";
    internal const string NetscapeCommentOid = "2.16.840.1.113730.1.13";

    /// <summary>certGen's usr_cert nsComment, verbatim, so the preset matches what the Learn module's folder holds.</summary>
    internal const string CertGenComment = "OpenSSL Generated Client Certificate";

    public static void Apply(
        CertificateRequest request,
        CertificateKind kind,
        ProfilePreset preset,
        KeyAlgorithm subjectKey,
        int? pathLength,
        ReadOnlyMemory<byte> authorityKeyId,
        X509Extension? subjectAlternativeNames = null)
    {
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, X509SubjectKeyIdentifierHashAlgorithm.Sha1, critical: false);
        foreach (var extension in Build(kind, preset, subjectKey, pathLength, ski, authorityKeyId.IsEmpty ? ski.SubjectKeyIdentifierBytes : authorityKeyId, subjectAlternativeNames))
        {
            request.CertificateExtensions.Add(extension);
        }
    }

    /// <summary>
    /// The extensions in the order they are written. The certgen-compatible preset uses certGen's order (OpenSSL
    /// writes them as its configuration section lists them); <paramref name="ski"/> is placed as given, so a caller
    /// can pass a stand-in and swap in each certificate's own key identifier.
    /// </summary>
    public static List<X509Extension> Build(
        CertificateKind kind,
        ProfilePreset preset,
        KeyAlgorithm subjectKey,
        int? pathLength,
        X509Extension ski,
        ReadOnlyMemory<byte> authorityKeyId,
        X509Extension? subjectAlternativeNames = null)
    {
        var certGen = preset == ProfilePreset.CertGenCompatible;

        // Both presets write the key id alone. certGen asks OpenSSL for "keyid:always,issuer" (CAs) and "keyid,issuer"
        // (leaves), and OpenSSL adds issuer and serial only when it finds no key id, so certGen's AKI is the key id too.
        var aki = X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(authorityKeyId.Span);
        if (kind is CertificateKind.Root or CertificateKind.Intermediate or CertificateKind.EdgeDeviceCa)
        {
            var basic = new X509BasicConstraintsExtension(true, pathLength.HasValue, pathLength ?? 0, critical: true);
            var usage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign;
            if (certGen || kind == CertificateKind.EdgeDeviceCa)
            {
                usage |= X509KeyUsageFlags.DigitalSignature;
            }

            var keyUsage = new X509KeyUsageExtension(usage, critical: true);
            return certGen ? [ski, aki, basic, keyUsage] : [basic, keyUsage, ski, aki];
        }

        if (kind == CertificateKind.Server)
        {
            return
            [
                new X509BasicConstraintsExtension(false, false, 0, critical: true),
                new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | (subjectKey.IsRsa() ? X509KeyUsageFlags.KeyEncipherment : 0), critical: true),
                new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication") }, critical: false),
                subjectAlternativeNames ?? throw new ArgumentNullException(nameof(subjectAlternativeNames)),
                ski,
                aki,
            ];
        }

        // RFC 5280 lets an end-entity mark basicConstraints either way; critical is the stricter reading, and the
        // one place the certgen-compatible preset departs from certGen (which leaves it non-critical).
        var leafBasic = new X509BasicConstraintsExtension(false, false, 0, critical: true);
        var eku = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication") };
        if (certGen)
        {
            // certGen's usr_cert section, in its order: basicConstraints, nsCertType, nsComment, SKI, AKI, keyUsage, EKU.
            eku.Add(new Oid("1.3.6.1.5.5.7.3.4", "Secure Email"));
            return
            [
                leafBasic,
                new X509Extension(NetscapeCertTypeOid, EncodeNetscapeCertType(), critical: false),
                new X509Extension(NetscapeCommentOid, EncodeIa5(CertGenComment), critical: false),
                ski,
                aki,
                new X509KeyUsageExtension(X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true),
                new X509EnhancedKeyUsageExtension(eku, critical: false),
            ];
        }

        var leafUsage = X509KeyUsageFlags.DigitalSignature;
        if (subjectKey.IsRsa())
        {
            leafUsage |= X509KeyUsageFlags.KeyEncipherment; // RSA key transport in TLS 1.2 RSA suites
        }

        return [leafBasic, new X509KeyUsageExtension(leafUsage, critical: true), new X509EnhancedKeyUsageExtension(eku, critical: false), ski, aki];
    }

    private static byte[] EncodeNetscapeCertType()
    {
        // Bits: 0 = SSL client, 2 = S/MIME (email).
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteBitString([0b1010_0000], unusedBitCount: 5);
        return writer.Encode();
    }

    private static byte[] EncodeIa5(string text)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.IA5String, text);
        return writer.Encode();
    }
}
