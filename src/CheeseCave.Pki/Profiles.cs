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

/// <summary>The X.509 extensions of each profile, in one place so tests and the linter agree with issuance.</summary>
internal static class ProfileExtensions
{
    internal const string NetscapeCertTypeOid = "2.16.840.1.113730.1.1";
    internal const string NetscapeCommentOid = "2.16.840.1.113730.1.13";
    internal const string CertGenComment = "CheeseCave certGen-compatible client certificate";

    public static void Apply(
        CertificateRequest request,
        CertificateKind kind,
        ProfilePreset preset,
        KeyAlgorithm subjectKey,
        int? pathLength,
        AuthorityKeyIdentifier authority,
        X509Extension? subjectAlternativeNames = null)
    {
        var ext = request.CertificateExtensions;
        var isCa = kind is CertificateKind.Root or CertificateKind.Intermediate;
        if (isCa)
        {
            ext.Add(new X509BasicConstraintsExtension(true, pathLength.HasValue, pathLength ?? 0, critical: true));
            var usage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign;
            if (preset == ProfilePreset.CertGenCompatible)
            {
                usage |= X509KeyUsageFlags.DigitalSignature;
            }

            ext.Add(new X509KeyUsageExtension(usage, critical: true));
        }
        else if (kind == CertificateKind.Server)
        {
            ext.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
            ext.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | (subjectKey.IsRsa() ? X509KeyUsageFlags.KeyEncipherment : 0), critical: true));
            ext.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication") }, critical: false));
            ext.Add(subjectAlternativeNames ?? throw new ArgumentNullException(nameof(subjectAlternativeNames)));
        }
        else
        {
            // RFC 5280 lets an end-entity mark basicConstraints either way; critical is the stricter reading.
            ext.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
            X509KeyUsageFlags usage;
            var eku = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication") };
            if (preset == ProfilePreset.CertGenCompatible)
            {
                usage = X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment;
                eku.Add(new Oid("1.3.6.1.5.5.7.3.4", "Secure Email"));
            }
            else
            {
                usage = X509KeyUsageFlags.DigitalSignature;
                if (subjectKey.IsRsa())
                {
                    usage |= X509KeyUsageFlags.KeyEncipherment; // RSA key transport in TLS 1.2 RSA suites
                }
            }

            ext.Add(new X509KeyUsageExtension(usage, critical: true));
            ext.Add(new X509EnhancedKeyUsageExtension(eku, critical: false));
            if (preset == ProfilePreset.CertGenCompatible)
            {
                // certGen's usr_cert section: nsCertType = client, email; nsComment.
                ext.Add(new X509Extension(NetscapeCertTypeOid, EncodeNetscapeCertType(), critical: false));
                ext.Add(new X509Extension(NetscapeCommentOid, EncodeIa5(CertGenComment), critical: false));
            }
        }

        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, X509SubjectKeyIdentifierHashAlgorithm.Sha1, critical: false);
        ext.Add(ski);

        // certGen uses "keyid:always,issuer" for CAs and "keyid,issuer" for leaves: key id plus issuer name and serial.
        // The recommended profile uses the key id alone, which is all chain building needs.
        var keyId = authority.KeyIdentifier.IsEmpty ? Convert.FromHexString(ski.SubjectKeyIdentifier!) : authority.KeyIdentifier.ToArray();
        ext.Add(preset == ProfilePreset.CertGenCompatible
            ? X509AuthorityKeyIdentifierExtension.Create(keyId, authority.IssuerName, authority.IssuerSerialNumber.Span)
            : X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(keyId));
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

/// <summary>Who signs: key id, name and serial of the issuer (for a root: its own, with an empty key id meaning "use the SKI").</summary>
internal readonly record struct AuthorityKeyIdentifier(ReadOnlyMemory<byte> KeyIdentifier, X500DistinguishedName IssuerName, ReadOnlyMemory<byte> IssuerSerialNumber);
