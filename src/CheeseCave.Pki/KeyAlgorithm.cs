using System.Formats.Asn1;
using System.Security.Cryptography;

namespace CheeseCave.Pki;

/// <summary>The key types DPS devices and their SDKs handle. ECDSA P-256 is the default: small handshakes, fast signing.</summary>
public enum KeyAlgorithm
{
    EcdsaP256,
    EcdsaP384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

public static class KeyAlgorithms
{
    /// <summary>Names as typed on the command line and shown in the portal.</summary>
    private static readonly Dictionary<string, KeyAlgorithm> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ecdsa-p256"] = KeyAlgorithm.EcdsaP256,
        ["p256"] = KeyAlgorithm.EcdsaP256,
        ["ec"] = KeyAlgorithm.EcdsaP256,
        ["ecdsa-p384"] = KeyAlgorithm.EcdsaP384,
        ["p384"] = KeyAlgorithm.EcdsaP384,
        ["rsa-2048"] = KeyAlgorithm.Rsa2048,
        ["rsa2048"] = KeyAlgorithm.Rsa2048,
        ["rsa-3072"] = KeyAlgorithm.Rsa3072,
        ["rsa3072"] = KeyAlgorithm.Rsa3072,
        ["rsa-4096"] = KeyAlgorithm.Rsa4096,
        ["rsa4096"] = KeyAlgorithm.Rsa4096,
    };

    public static IReadOnlyCollection<string> CanonicalNames { get; } =
        ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"];

    public static KeyAlgorithm Parse(string name) =>
        ByName.TryGetValue(name.Trim(), out var algorithm)
            ? algorithm
            : throw new PkiException(PkiErrorCode.UnsupportedKey,
                $"Unknown key type '{name}'. Use one of: {string.Join(", ", CanonicalNames)}.");

    public static string ToName(this KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcdsaP256 => "ecdsa-p256",
        KeyAlgorithm.EcdsaP384 => "ecdsa-p384",
        KeyAlgorithm.Rsa2048 => "rsa-2048",
        KeyAlgorithm.Rsa3072 => "rsa-3072",
        KeyAlgorithm.Rsa4096 => "rsa-4096",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    public static string ToDisplay(this KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcdsaP256 => "ECDSA P-256",
        KeyAlgorithm.EcdsaP384 => "ECDSA P-384",
        KeyAlgorithm.Rsa2048 => "RSA 2048",
        KeyAlgorithm.Rsa3072 => "RSA 3072",
        KeyAlgorithm.Rsa4096 => "RSA 4096",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    public static bool IsRsa(this KeyAlgorithm algorithm) =>
        algorithm is KeyAlgorithm.Rsa2048 or KeyAlgorithm.Rsa3072 or KeyAlgorithm.Rsa4096;

    /// <summary>The digest a key of this type signs with (P-384 pairs with SHA-384, everything else SHA-256).</summary>
    public static HashAlgorithmName SignatureHash(this KeyAlgorithm algorithm) =>
        algorithm == KeyAlgorithm.EcdsaP384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;

    /// <summary>
    /// Works out the key type of a public key, refusing what DPS devices should not use. Read from the encoded key
    /// (curve name, modulus length) rather than by making a key object: importing an EC key validates its point, as
    /// costly as verifying a signature, and this runs for every CSR. Whoever needs the key itself (signature checks)
    /// imports and validates it there.
    /// </summary>
    public static KeyAlgorithm FromPublicKey(System.Security.Cryptography.X509Certificates.PublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        try
        {
            switch (publicKey.Oid.Value)
            {
                case EcPublicKeyOid:
                    var parameters = publicKey.EncodedParameters?.RawData ?? [];
                    var curve = parameters.Length > 0 && parameters[0] == 0x06 ? AsnDecoder.ReadObjectIdentifier(parameters, AsnEncodingRules.DER, out _) : null;
                    return curve switch
                    {
                        P256Oid => KeyAlgorithm.EcdsaP256,
                        P384Oid => KeyAlgorithm.EcdsaP384,
                        null => throw new PkiException(PkiErrorCode.UnsupportedKey, "The elliptic curve key gives explicit curve parameters instead of a named curve: use P-256 or P-384."),
                        _ => throw new PkiException(PkiErrorCode.UnsupportedKey,
                            $"Unsupported elliptic curve {Oid.FromOidValue(curve, OidGroup.All).FriendlyName ?? curve}: use P-256 or P-384."),
                    };
                case RsaOid:
                    var bits = RsaModulusBits(publicKey.EncodedKeyValue.RawData);
                    return bits switch
                    {
                        2048 => KeyAlgorithm.Rsa2048,
                        3072 => KeyAlgorithm.Rsa3072,
                        4096 => KeyAlgorithm.Rsa4096,
                        < CaImportPolicy.MinimumRsaKeyBits => throw new PkiException(PkiErrorCode.WeakKey,
                            $"RSA-{bits} is too weak: use RSA 2048 or more, or better ECDSA P-256."),
                        _ => throw new PkiException(PkiErrorCode.UnsupportedKey,
                            $"RSA-{bits} is not a supported size: use 2048, 3072 or 4096."),
                    };
            }
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException)
        {
            throw new PkiException(PkiErrorCode.UnsupportedKey, $"The public key is not readable: {ex.Message}", ex);
        }

        throw new PkiException(PkiErrorCode.UnsupportedKey,
            $"Unsupported key algorithm {publicKey.Oid.FriendlyName ?? publicKey.Oid.Value}: use ECDSA P-256/P-384 or RSA.");
    }

    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private const string P384Oid = "1.3.132.0.34";

    /// <summary>The size of an RSAPublicKey's modulus in bits, as RSA.KeySize reports it.</summary>
    private static int RsaModulusBits(byte[] rsaPublicKey)
    {
        var reader = new AsnReader(rsaPublicKey, AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        var modulus = sequence.ReadIntegerBytes().Span;
        var start = 0;
        while (start < modulus.Length - 1 && modulus[start] == 0)
        {
            start++;
        }

        var significant = modulus[start..];
        return significant.Length == 0 ? 0 : ((significant.Length - 1) * 8) + (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)significant[0]));
    }
}
