using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace CheeseCave.Pki;

/// <summary>
/// Encrypts the private keys and PFX files of one batch under one passphrase, running the passphrase stretching once
/// per batch instead of once per file. Every file is an ordinary encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY": PBES2,
/// PBKDF2-HMAC-SHA256 with <see cref="Iterations"/> rounds, AES-256-CBC) or PKCS#12 (that key bag, plain certificate
/// bags, an HMAC-SHA256 MAC keyed by the PKCS#12 KDF with the same number of rounds), which OpenSSL and .NET open with
/// the passphrase as usual. The batch shares one random salt, so the stretched key is the same for every file and is
/// derived once; each file still gets its own random IV. Why this is as strong as a salt per file: an attacker still
/// pays the full <see cref="Iterations"/> rounds per guess, and the files a salt would keep apart all open with the
/// same passphrase anyway, so one guess testing them all gains nothing; across batches the salts differ, so nothing
/// can be precomputed. See docs/performance.md.
/// </summary>
public sealed class BatchEncryption : IDisposable
{
    /// <summary>The stretching rounds, as for a single key (<see cref="PrivateKey.DefaultEncryption"/>).</summary>
    public const int Iterations = 100_000;

    private const int SaltLength = 16;
    private const string Pbes2Oid = "1.2.840.113549.1.5.13";
    private const string Pbkdf2Oid = "1.2.840.113549.1.5.12";
    private const string HmacSha256Oid = "1.2.840.113549.2.9";
    private const string Aes256CbcOid = "2.16.840.1.101.3.4.1.42";
    private const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    private const string DataOid = "1.2.840.113549.1.7.1";
    private const string CertBagOid = "1.2.840.113549.1.12.10.1.3";
    private const string ShroudedKeyBagOid = "1.2.840.113549.1.12.10.1.2";
    private const string X509CertificateOid = "1.2.840.113549.1.9.22.1";
    private const string LocalKeyIdOid = "1.2.840.113549.1.9.21";

    private readonly byte[] _salt = RandomNumberGenerator.GetBytes(SaltLength);
    private readonly byte[] _macSalt = RandomNumberGenerator.GetBytes(SaltLength);
    private readonly byte[] _encryptionKey;
    private readonly byte[] _macKey;

    public BatchEncryption(string passphrase)
    {
        if (string.IsNullOrEmpty(passphrase))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "A passphrase is required to encrypt private keys and PFX files.");
        }

        // PBES2 takes the passphrase's bytes as they are (UTF-8), as OpenSSL does; the PKCS#12 MAC KDF takes BMPString.
        // The two derivations are independent, so they run side by side.
        byte[]? encryptionKey = null;
        byte[]? macKey = null;
        Parallel.Invoke(
            () => encryptionKey = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), _salt, Iterations, HashAlgorithmName.SHA256, 32),
            () => macKey = Pkcs12MacKey(passphrase, _macSalt, Iterations));
        _encryptionKey = encryptionKey!;
        _macKey = macKey!;
    }

    /// <summary>The key as encrypted PKCS#8 PEM, readable with <c>openssl pkey -passin</c> or <see cref="PrivateKey.ImportPem"/>.</summary>
    public string EncryptPrivateKeyPem(PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return PemEncoding.WriteString(PemLabels.EncryptedPrivateKey, EncryptPrivateKey(key)) + "\n";
    }

    /// <summary>
    /// The key file and the PFX of one issued certificate, with the key encrypted once: both files carry the same
    /// encrypted PKCS#8 (same ciphertext, same IV), which reveals nothing the files do not already share.
    /// </summary>
    public ProtectedKeyFiles ExportKeyAndPfx(IssuedCertificate issued)
    {
        ArgumentNullException.ThrowIfNull(issued);
        var key = issued.Key ?? throw new PkiException(PkiErrorCode.InvalidInput, "There is no private key to protect: the certificate was signed from a CSR.");
        var encrypted = EncryptPrivateKey(key);
        return new ProtectedKeyFiles(PemEncoding.WriteString(PemLabels.EncryptedPrivateKey, encrypted) + "\n", ExportPfx(issued.RawData.Span, encrypted, issued.IssuerChain));
    }

    /// <summary>A PFX with the certificate, its key and the issuer chain (root included), like <see cref="CertificateExport.ToPfx(IssuedCertificate, string, PfxEncryption)"/>.</summary>
    public byte[] ExportPfx(IssuedCertificate issued)
    {
        ArgumentNullException.ThrowIfNull(issued);
        var key = issued.Key ?? throw new PkiException(PkiErrorCode.InvalidInput, "There is no private key to put in a PFX: the certificate was signed from a CSR.");
        return ExportPfx(issued.RawData.Span, EncryptPrivateKey(key), issued.IssuerChain);
    }

    /// <summary>A PFX with a certificate read elsewhere (for example from an adopted certGen PFX), its key and the chain above it.</summary>
    public byte[] ExportPfx(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, PrivateKey key, IEnumerable<System.Security.Cryptography.X509Certificates.X509Certificate2> issuerChain)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(issuerChain);
        if (!key.Matches(certificate))
        {
            throw new PkiException(PkiErrorCode.KeyMismatch, "The private key does not belong to the certificate.");
        }

        return ExportPfx(certificate.RawData, EncryptPrivateKey(key), issuerChain);
    }

    private byte[] ExportPfx(ReadOnlySpan<byte> leaf, byte[] encryptedKey, IEnumerable<System.Security.Cryptography.X509Certificates.X509Certificate2> issuerChain)
    {
        var localKeyId = SHA256.HashData(leaf); // links the key bag to its certificate bag

        var certificates = new AsnWriter(AsnEncodingRules.DER);
        using (certificates.PushSequence())
        {
            WriteCertificateBag(certificates, leaf, localKeyId);
            foreach (var issuer in issuerChain)
            {
                WriteCertificateBag(certificates, issuer.RawData, null);
            }
        }

        var keys = new AsnWriter(AsnEncodingRules.DER);
        using (keys.PushSequence())
        using (keys.PushSequence())
        {
            keys.WriteObjectIdentifier(ShroudedKeyBagOid);
            using (keys.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                keys.WriteEncodedValue(encryptedKey);
            }

            WriteLocalKeyId(keys, localKeyId);
        }

        var authenticatedSafe = new AsnWriter(AsnEncodingRules.DER);
        using (authenticatedSafe.PushSequence())
        {
            WriteDataContent(authenticatedSafe, certificates.Encode());
            WriteDataContent(authenticatedSafe, keys.Encode());
        }

        var content = authenticatedSafe.Encode();
        var pfx = new AsnWriter(AsnEncodingRules.DER);
        using (pfx.PushSequence())
        {
            pfx.WriteInteger(3);
            WriteDataContent(pfx, content);
            using (pfx.PushSequence())
            {
                using (pfx.PushSequence())
                {
                    WriteAlgorithm(pfx, Sha256Oid);
                    pfx.WriteOctetString(HMACSHA256.HashData(_macKey, content));
                }

                pfx.WriteOctetString(_macSalt);
                pfx.WriteInteger(Iterations);
            }
        }

        return pfx.Encode();
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_encryptionKey);
        CryptographicOperations.ZeroMemory(_macKey);
    }

    private byte[] EncryptPrivateKey(PrivateKey key)
    {
        var plain = key.ExportPkcs8ForProtectedStore();
        Span<byte> iv = stackalloc byte[16];
        RandomNumberGenerator.Fill(iv);
        byte[] encrypted;
        try
        {
            using var aes = Aes.Create();
            aes.Key = _encryptionKey;
            encrypted = aes.EncryptCbc(plain, iv, PaddingMode.PKCS7);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Pbes2Oid);
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Pbkdf2Oid);
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(_salt);
                            writer.WriteInteger(Iterations);
                            WriteAlgorithm(writer, HmacSha256Oid);
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Aes256CbcOid);
                        writer.WriteOctetString(iv);
                    }
                }
            }

            writer.WriteOctetString(encrypted);
        }

        return writer.Encode();
    }

    private static void WriteCertificateBag(AsnWriter writer, ReadOnlySpan<byte> certificate, byte[]? localKeyId)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(CertBagOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(X509CertificateOid);
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                {
                    writer.WriteOctetString(certificate);
                }
            }

            if (localKeyId is not null)
            {
                WriteLocalKeyId(writer, localKeyId);
            }
        }
    }

    private static void WriteLocalKeyId(AsnWriter writer, byte[] localKeyId)
    {
        using (writer.PushSetOf())
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(LocalKeyIdOid);
            using (writer.PushSetOf())
            {
                writer.WriteOctetString(localKeyId);
            }
        }
    }

    private static void WriteDataContent(AsnWriter writer, byte[] content)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(DataOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                writer.WriteOctetString(content);
            }
        }
    }

    private static void WriteAlgorithm(AsnWriter writer, string oid)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            writer.WriteNull();
        }
    }

    /// <summary>RFC 7292 appendix B.2 with SHA-256 (ID 3: MAC key); one 32-byte block is all HMAC-SHA256 needs.</summary>
    internal static byte[] Pkcs12MacKey(string passphrase, byte[] salt, int iterations)
    {
        const int BlockSize = 64;
        var password = new byte[(passphrase.Length + 1) * 2]; // BMPString, big-endian, with a two-zero terminator
        Encoding.BigEndianUnicode.GetBytes(passphrase, password);
        var input = new byte[BlockSize + Repeated(salt.Length) + Repeated(password.Length)];
        input.AsSpan(0, BlockSize).Fill(3);
        Fill(input.AsSpan(BlockSize, Repeated(salt.Length)), salt);
        Fill(input.AsSpan(BlockSize + Repeated(salt.Length)), password);
        var block = SHA256.HashData(input);
        for (var i = 1; i < iterations; i++)
        {
            SHA256.HashData(block, block);
        }

        CryptographicOperations.ZeroMemory(password);
        CryptographicOperations.ZeroMemory(input);
        return block;

        static int Repeated(int length) => (length + BlockSize - 1) / BlockSize * BlockSize;

        static void Fill(Span<byte> target, byte[] source)
        {
            for (var i = 0; i < target.Length; i++)
            {
                target[i] = source[i % source.Length];
            }
        }
    }
}

/// <summary>An issued key's two protected forms: the encrypted PKCS#8 PEM and the PFX.</summary>
public sealed record ProtectedKeyFiles(string KeyPem, byte[] Pfx);
