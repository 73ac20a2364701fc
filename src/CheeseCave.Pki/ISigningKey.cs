using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// A key that can sign certificates. The CA only needs this much, so a key held in an HSM or a cloud
/// key vault can stand in for a software key by returning its own <see cref="X509SignatureGenerator"/>.
/// </summary>
public interface ISigningKey : IDisposable
{
    KeyAlgorithm Algorithm { get; }

    PublicKey PublicKey { get; }

    X509SignatureGenerator CreateSignatureGenerator();
}

/// <summary>A software private key (ECDSA or RSA). Export is explicit and encrypted unless the caller insists.</summary>
public sealed class PrivateKey : ISigningKey
{
    /// <summary>PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256: readable by OpenSSL 1.1+ and every current runtime.</summary>
    public static readonly PbeParameters DefaultEncryption = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000);

    private readonly AsymmetricAlgorithm _key;

    private PublicKey? _publicKey;

    private PrivateKey(AsymmetricAlgorithm key, KeyAlgorithm algorithm)
    {
        if (key is not (ECDsa or RSA))
        {
            throw new PkiException(PkiErrorCode.UnsupportedKey, "Only ECDSA and RSA keys are supported.");
        }

        _key = key;
        Algorithm = algorithm;
    }

    public KeyAlgorithm Algorithm { get; }

    /// <summary>Built on first use: bulk issuance only needs <see cref="ExportSubjectPublicKeyInfo"/>.</summary>
    public PublicKey PublicKey => LazyInitializer.EnsureInitialized(ref _publicKey, () => PublicKey.CreateFromSubjectPublicKeyInfo(ExportSubjectPublicKeyInfo(), out _));

    internal AsymmetricAlgorithm Key => _key;

    public static PrivateKey Generate(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcdsaP256 => new PrivateKey(ECDsa.Create(ECCurve.NamedCurves.nistP256), algorithm),
        KeyAlgorithm.EcdsaP384 => new PrivateKey(ECDsa.Create(ECCurve.NamedCurves.nistP384), algorithm),
        KeyAlgorithm.Rsa2048 => new PrivateKey(RSA.Create(2048), algorithm),
        KeyAlgorithm.Rsa3072 => new PrivateKey(RSA.Create(3072), algorithm),
        KeyAlgorithm.Rsa4096 => new PrivateKey(RSA.Create(4096), algorithm),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Wraps an existing key (for example from a PFX); the key type rules are checked.</summary>
    public static PrivateKey FromAlgorithm(AsymmetricAlgorithm key)
    {
        var publicKey = key switch
        {
            ECDsa ec => new PublicKey(ec),
            RSA rsa => new PublicKey(rsa),
            _ => throw new PkiException(PkiErrorCode.UnsupportedKey, "Only ECDSA and RSA private keys are supported."),
        };
        return new PrivateKey(key, KeyAlgorithms.FromPublicKey(publicKey));
    }

    /// <summary>
    /// Reads a PEM private key: encrypted PKCS#8 (needs the passphrase), PKCS#8, SEC1 EC or PKCS#1 RSA. An encrypted
    /// key is checked against <see cref="KeyDerivationLimits.MaxIterations"/> before any work and decrypted once.
    /// </summary>
    public static PrivateKey ImportPem(string pem, string? passphrase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var isEncrypted = PemLabels.HasBlock(pem, PemLabels.EncryptedPrivateKey);
        var isEc = PemLabels.HasBlock(pem, PemLabels.EcPrivateKey);
        var isRsa = PemLabels.HasBlock(pem, PemLabels.RsaPrivateKey);
        var isPkcs8 = PemLabels.HasBlock(pem, PemLabels.PrivateKey);
        if (!isEncrypted && !isEc && !isRsa && !isPkcs8)
        {
            throw new PkiException(PkiErrorCode.UnreadableKey,
                "No private key found: expected a PEM block labelled ENCRYPTED PRIVATE KEY, PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY.");
        }

        if (pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            throw new PkiException(PkiErrorCode.UnreadableKey,
                "This key uses the legacy OpenSSL PEM encryption (Proc-Type: 4,ENCRYPTED, as certGen.sh writes). Convert it first: openssl pkcs8 -topk8 -in old.key.pem -out new.key.pem");
        }

        if (isEncrypted)
        {
            if (string.IsNullOrEmpty(passphrase))
            {
                throw new PkiException(PkiErrorCode.WrongPassphrase, "The private key is encrypted: a passphrase is needed to read it.");
            }

            return ImportEncryptedPkcs8(PemBlocks.DecodeSingle(pem, PemLabels.EncryptedPrivateKey), passphrase, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();

        // Try EC first, then RSA: PKCS#8 does not say which in its PEM label (nothing is decrypted here).
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return FromAlgorithm(ec);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException && !isEc)
        {
            // ArgumentException: ECDsa does not know the "RSA PRIVATE KEY" (PKCS#1) label at all.
            ec.Dispose();
        }
        catch (CryptographicException ex)
        {
            ec.Dispose();
            throw new PkiException(PkiErrorCode.UnreadableKey, $"The EC private key could not be read: {ex.Message}", ex);
        }
        catch (PkiException)
        {
            ec.Dispose();
            throw;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return FromAlgorithm(rsa);
        }
        catch (CryptographicException ex)
        {
            rsa.Dispose();
            throw new PkiException(PkiErrorCode.UnreadableKey, $"The private key could not be read: {ex.Message}", ex);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Refuses an iteration count over the cap before deriving anything, then decrypts once (a wrong passphrase costs
    /// one derivation, not one per key type tried) and reads the plain PKCS#8 by its algorithm.
    /// </summary>
    private static PrivateKey ImportEncryptedPkcs8(byte[] encrypted, string passphrase, CancellationToken cancellationToken)
    {
        if (KeyDerivationLimits.IterationCount(encrypted) is > KeyDerivationLimits.MaxIterations and var iterations)
        {
            throw new PkiException(PkiErrorCode.TooManyIterations, KeyDerivationLimits.TooManyIterations(iterations));
        }

        cancellationToken.ThrowIfCancellationRequested();
        Pkcs8PrivateKeyInfo info;
        try
        {
            info = Pkcs8PrivateKeyInfo.DecryptAndDecode(passphrase, encrypted, out _);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrorCode.WrongPassphrase, "The private key could not be decrypted: the passphrase is wrong or the file is damaged.", ex);
        }

        var pkcs8 = info.Encode();
        try
        {
            return ImportPkcs8(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>The DER SubjectPublicKeyInfo of the public half.</summary>
    public byte[] ExportSubjectPublicKeyInfo() => _key.ExportSubjectPublicKeyInfo();

    public X509SignatureGenerator CreateSignatureGenerator() => _key switch
    {
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new InvalidOperationException("Unsupported key."),
    };

    /// <summary>Encrypted PKCS#8 PEM ("ENCRYPTED PRIVATE KEY"), the only form keys are written in by default.</summary>
    public string ExportEncryptedPem(string passphrase, PbeParameters? encryption = null)
    {
        if (string.IsNullOrEmpty(passphrase))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "A passphrase is required to export a private key.");
        }

        return _key.ExportEncryptedPkcs8PrivateKeyPem(passphrase, encryption ?? DefaultEncryption);
    }

    /// <summary>Unencrypted PKCS#8 PEM. Only for a caller that has been told explicitly to write a clear-text key.</summary>
    public string ExportUnencryptedPem(bool iUnderstandTheKeyIsNotProtected)
    {
        if (!iUnderstandTheKeyIsNotProtected)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "Refusing to export an unencrypted private key without an explicit request.");
        }

        return _key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>Unencrypted PKCS#8 bytes, for a key store that encrypts them itself (for example ASP.NET Core Data Protection).</summary>
    public byte[] ExportPkcs8ForProtectedStore() => _key.ExportPkcs8PrivateKey();

    public static PrivateKey ImportPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            return FromAlgorithm(ec);
        }
        catch (CryptographicException)
        {
            ec.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
            return FromAlgorithm(rsa);
        }
        catch (CryptographicException ex)
        {
            rsa.Dispose();
            throw new PkiException(PkiErrorCode.UnreadableKey, "The stored private key could not be read.", ex);
        }
    }

    /// <summary>Whether a certificate carries this key's public half.</summary>
    public bool Matches(X509Certificate2 certificate) => CaImportPolicy.KeyMatches(PublicKey, certificate);

    /// <summary>A certificate object that can also sign, for TLS servers and clients (the caller disposes it).</summary>
    public X509Certificate2 AttachToCertificate(X509Certificate2 certificate) => AttachTo(certificate);

    /// <summary>A certificate object that can also sign (used for PFX export).</summary>
    internal X509Certificate2 AttachTo(X509Certificate2 certificate) => _key switch
    {
        ECDsa ec => certificate.CopyWithPrivateKey(ec),
        RSA rsa => certificate.CopyWithPrivateKey(rsa),
        _ => throw new InvalidOperationException("Unsupported key."),
    };

    public void Dispose() => _key.Dispose();

    public override string ToString() => $"{Algorithm.ToDisplay()} private key";
}
