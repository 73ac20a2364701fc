using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki;

public enum CertificateFormat
{
    Pem,
    Der,
    Base64,
    Pfx,
}

/// <summary>What a file held: its certificates in file order, and a private key if one came with them.</summary>
public sealed class ReadCertificates : IDisposable
{
    internal ReadCertificates(CertificateFormat format, IReadOnlyList<X509Certificate2> certificates, PrivateKey? key)
    {
        Format = format;
        Certificates = certificates;
        Key = key;
    }

    public CertificateFormat Format { get; }

    public IReadOnlyList<X509Certificate2> Certificates { get; }

    public PrivateKey? Key { get; }

    public void Dispose() => Key?.Dispose();
}

/// <summary>Reads certificates however users have them: PEM (one or many), DER (.cer), bare base64 or PFX.</summary>
public static class CertificateReader
{
    /// <summary>
    /// Reads the file. An encrypted key or PFX asking for more than <see cref="KeyDerivationLimits.MaxIterations"/>
    /// is refused before any derivation; cancellation is checked before each decryption.
    /// </summary>
    public static ReadCertificates Read(byte[] data, string? passphrase = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0)
        {
            throw new PkiException(PkiErrorCode.UnreadableCertificate, "The file is empty.");
        }

        if (data[0] == 0x30)
        {
            return ReadBinary(data, passphrase, CertificateFormat.Der, cancellationToken);
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(data);
        }
        catch (DecoderFallbackException)
        {
            throw new PkiException(PkiErrorCode.UnreadableCertificate,
                "This is neither a certificate nor a PFX: expected PEM text, DER (.cer), base64 or a PFX/PKCS#12 file.");
        }

        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return ReadPem(text, passphrase, cancellationToken);
        }

        var bytes = DecodeBase64(text, "base64 certificate");
        var read = ReadBinary(bytes, passphrase, CertificateFormat.Base64, cancellationToken);
        return read.Format == CertificateFormat.Pfx ? read : new ReadCertificates(CertificateFormat.Base64, read.Certificates, read.Key);
    }

    private static ReadCertificates ReadPem(string text, string? passphrase, CancellationToken cancellationToken)
    {
        var certificates = new List<X509Certificate2>();
        PrivateKey? key = null;
        var position = 0;
        while (true)
        {
            var begin = text.IndexOf("-----BEGIN ", position, StringComparison.Ordinal);
            if (begin < 0) break;
            var labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
            if (labelEnd < 0)
            {
                throw new PkiException(PkiErrorCode.UnreadableCertificate, "A PEM BEGIN line is cut off: the file looks truncated.");
            }

            var label = text[(begin + 11)..labelEnd];
            var endMarker = PemLabels.EndLine(label);
            var end = text.IndexOf(endMarker, labelEnd, StringComparison.Ordinal);
            if (end < 0)
            {
                throw new PkiException(PkiErrorCode.UnreadableCertificate, $"The PEM block '{label}' has no END line: the file looks truncated.");
            }

            var block = text[begin..(end + endMarker.Length)];
            position = end + endMarker.Length;
            if (label == PemLabels.Certificate)
            {
                var der = DecodeBase64(text[(labelEnd + 5)..end], "certificate");
                certificates.Add(LoadDer(der));
            }
            else if (PemLabels.PrivateKeys.Contains(label))
            {
                if (key is not null)
                {
                    key.Dispose();
                    throw new PkiException(PkiErrorCode.UnreadableKey, "The file holds more than one private key; keep one key per file.");
                }

                key = PrivateKey.ImportPem(block, passphrase, cancellationToken);
            }
            else if (PemLabels.CertificateRequests.Contains(label))
            {
                key?.Dispose();
                throw new PkiException(PkiErrorCode.UnreadableCertificate,
                    "This is a certificate signing request (CSR), not a certificate. Sign it with 'cheesecave sign_csr'.");
            }
            else
            {
                key?.Dispose();
                throw new PkiException(PkiErrorCode.UnreadableCertificate,
                    $"Unexpected PEM block '{label}': expected CERTIFICATE (and optionally a PRIVATE KEY).");
            }
        }

        if (certificates.Count == 0)
        {
            key?.Dispose();
            throw new PkiException(PkiErrorCode.UnreadableCertificate,
                key is null ? "No PEM block found." : "The file holds a private key but no certificate.");
        }

        return new ReadCertificates(CertificateFormat.Pem, certificates, key);
    }

    private static ReadCertificates ReadBinary(byte[] bytes, string? passphrase, CertificateFormat format, CancellationToken cancellationToken)
    {
        X509ContentType type;
        try
        {
            type = X509Certificate2.GetCertContentType(bytes);
        }
        catch (CryptographicException)
        {
            type = X509ContentType.Unknown; // not a structure it knows; LoadDer reports the damage
        }

        if (type == X509ContentType.Pkcs12)
        {
            return ReadPfx(bytes, passphrase, cancellationToken);
        }

        return new ReadCertificates(format, [LoadDer(bytes)], null);
    }

    private static ReadCertificates ReadPfx(byte[] bytes, string? passphrase, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        X509Certificate2Collection collection;
        try
        {
            // The loader checks every iteration count against the limits before it derives anything.
            collection = X509CertificateLoader.LoadPkcs12Collection(bytes, passphrase,
                X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet, KeyDerivationLimits.Pkcs12);
        }
        catch (Pkcs12LoadLimitExceededException ex)
        {
            throw new PkiException(PkiErrorCode.TooManyIterations, KeyDerivationLimits.PfxTooManyIterations, ex);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrorCode.WrongPassphrase,
                string.IsNullOrEmpty(passphrase)
                    ? "The PFX file could not be opened without a password: give its password."
                    : "The PFX file could not be opened: the password is wrong or the file is damaged.", ex);
        }

        PrivateKey? key = null;
        var certificates = new List<X509Certificate2>();
        foreach (var certificate in collection)
        {
            if (certificate.HasPrivateKey && key is null)
            {
                AsymmetricAlgorithm? algorithm = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey();
                if (algorithm is not null)
                {
                    key = PrivateKey.FromAlgorithm(algorithm);
                    certificates.Insert(0, X509CertificateLoader.LoadCertificate(certificate.RawData));
                    continue;
                }
            }

            certificates.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        }

        return new ReadCertificates(CertificateFormat.Pfx, certificates, key);
    }

    /// <summary>Bad base64 in a certificate file is an unreadable certificate, like every other failure of this reader.</summary>
    private static byte[] DecodeBase64(string body, string what)
    {
        try
        {
            return PemBlocks.DecodeBase64(body, what);
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.InvalidInput)
        {
            throw new PkiException(PkiErrorCode.UnreadableCertificate, ex.Message, ex);
        }
    }

    private static X509Certificate2 LoadDer(byte[] der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrorCode.UnreadableCertificate, $"The certificate data is damaged and cannot be decoded: {ex.Message}", ex);
        }
    }
}
