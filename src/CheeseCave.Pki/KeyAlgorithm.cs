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

    /// <summary>Works out the key type of a public key, refusing what DPS devices should not use.</summary>
    public static KeyAlgorithm FromPublicKey(System.Security.Cryptography.X509Certificates.PublicKey publicKey)
    {
        using (var ec = publicKey.GetECDsaPublicKey())
        {
            if (ec is not null)
            {
                var curve = ec.ExportParameters(false).Curve;
                if (curve.IsNamed && curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value) return KeyAlgorithm.EcdsaP256;
                if (curve.IsNamed && curve.Oid.Value == ECCurve.NamedCurves.nistP384.Oid.Value) return KeyAlgorithm.EcdsaP384;
                throw new PkiException(PkiErrorCode.UnsupportedKey,
                    $"Unsupported elliptic curve {curve.Oid.FriendlyName ?? curve.Oid.Value}: use P-256 or P-384.");
            }
        }

        using (var rsa = publicKey.GetRSAPublicKey())
        {
            if (rsa is not null)
            {
                return rsa.KeySize switch
                {
                    2048 => KeyAlgorithm.Rsa2048,
                    3072 => KeyAlgorithm.Rsa3072,
                    4096 => KeyAlgorithm.Rsa4096,
                    < CaImportPolicy.MinimumRsaKeyBits => throw new PkiException(PkiErrorCode.WeakKey,
                        $"RSA-{rsa.KeySize} is too weak: use RSA 2048 or more, or better ECDSA P-256."),
                    _ => throw new PkiException(PkiErrorCode.UnsupportedKey,
                        $"RSA-{rsa.KeySize} is not a supported size: use 2048, 3072 or 4096."),
                };
            }
        }

        throw new PkiException(PkiErrorCode.UnsupportedKey,
            $"Unsupported key algorithm {publicKey.Oid.FriendlyName ?? publicKey.Oid.Value}: use ECDSA P-256/P-384 or RSA.");
    }
}
