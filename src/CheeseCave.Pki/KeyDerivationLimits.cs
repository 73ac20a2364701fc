using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// How much password-based key derivation an imported encrypted key or PFX may demand. The count comes from the
/// file, so without a cap one upload can keep a core busy for minutes (30,000,000 PBKDF2 rounds take about a minute;
/// the format allows 2^31-1). 1,000,000 is well above what real tools write (OpenSSL 2,048, certGen.sh 2,048,
/// CheeseCave 100,000, OWASP's 2023 advice for PBKDF2-HMAC-SHA256 600,000) and bounds one decryption to about a second.
/// </summary>
public static class KeyDerivationLimits
{
    public const int MaxIterations = 1_000_000;

    private const string Pbes2 = "1.2.840.113549.1.5.13";
    private const string Pbkdf2 = "1.2.840.113549.1.5.12";
    private const string Pbes1Prefix = "1.2.840.113549.1.5.";
    private const string Pkcs12PbePrefix = "1.2.840.113549.1.12.1.";

    /// <summary>For a PFX: each derivation (and the MAC) at most <see cref="MaxIterations"/>; the certificate and key bags together twice that.</summary>
    public static Pkcs12LoaderLimits Pkcs12 { get; } = CreatePkcs12Limits();

    public static string TooManyIterations(long iterations) => string.Create(CultureInfo.InvariantCulture,
        $"The private key is encrypted with {iterations:N0} key-derivation iterations; CheeseCave reads at most {MaxIterations:N0}. Re-encrypt it with fewer, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 100000 -in key.pem -out key-100k.pem");

    public const string PfxTooManyIterations =
        "The PFX file asks for more key-derivation iterations than CheeseCave reads (at most 1,000,000 per key or MAC). " +
        "Export it again with fewer, e.g. openssl pkcs12 -export -iter 100000 -maciter ..., or give the certificate and key as PEM.";

    /// <summary>
    /// The iteration count an EncryptedPrivateKeyInfo (PKCS#8) asks for: PBES2 with PBKDF2, or the older PBES1 and
    /// PKCS#12 schemes. <see langword="null"/> when the structure is not one of those (decryption then reports it);
    /// a count too large for an <see cref="int"/> is reported as <see cref="long.MaxValue"/>.
    /// </summary>
    public static long? IterationCount(ReadOnlyMemory<byte> encryptedPrivateKeyInfo)
    {
        try
        {
            var info = new AsnReader(encryptedPrivateKeyInfo, AsnEncodingRules.BER).ReadSequence();
            var algorithm = info.ReadSequence();
            var oid = algorithm.ReadObjectIdentifier();
            AsnReader parameters;
            if (oid == Pbes2)
            {
                var kdf = algorithm.ReadSequence().ReadSequence();
                if (kdf.ReadObjectIdentifier() != Pbkdf2)
                {
                    return null;
                }

                parameters = kdf.ReadSequence();
            }
            else if (oid.StartsWith(Pbes1Prefix, StringComparison.Ordinal) || oid.StartsWith(Pkcs12PbePrefix, StringComparison.Ordinal))
            {
                parameters = algorithm.ReadSequence();
            }
            else
            {
                return null;
            }

            parameters.ReadEncodedValue(); // the salt
            return parameters.TryReadInt64(out var iterations) ? iterations : long.MaxValue;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static Pkcs12LoaderLimits CreatePkcs12Limits()
    {
        var limits = new Pkcs12LoaderLimits
        {
            IndividualKdfIterationLimit = MaxIterations,
            TotalKdfIterationLimit = 2 * MaxIterations,
            MacIterationLimit = MaxIterations,
        };
        limits.MakeReadOnly();
        return limits;
    }
}
