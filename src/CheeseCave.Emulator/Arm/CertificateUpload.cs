using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Decodes a certificate sent to DPS however clients send it: raw PEM text, base64 of the PEM text (what the Node
/// SDK sends for Buffer.from(pem)) or base64 of DER (.cer). Exactly one certificate, and never a private key.
/// </summary>
internal static class CertificateUpload
{
    /// <summary>Returns the one certificate in <paramref name="value"/>; the caller disposes it.</summary>
    public static X509Certificate2 Decode(string? value, string path)
    {
        var text = value?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            throw new ArmErrorException(400, "InvalidCertificate", $"'{path}' is required: the certificate as PEM text, base64 of the PEM text, or base64 of the DER (.cer) bytes.");
        }

        byte[] data;
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            data = Encoding.UTF8.GetBytes(text);
        }
        else
        {
            try
            {
                data = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw new ArmErrorException(400, "InvalidCertificate", $"'{path}' is neither PEM text nor base64: send the certificate as PEM, base64 of the PEM text, or base64 of the DER (.cer) bytes.");
            }
        }

        if (data.Length == 0)
        {
            throw new ArmErrorException(400, "InvalidCertificate", $"'{path}' is empty.");
        }

        if (data[0] != 0x30 && Encoding.UTF8.GetString(data).Contains(PemLabels.PrivateKey + "-----", StringComparison.Ordinal))
        {
            throw PrivateKeyRefused(path);
        }

        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(data);
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.WrongPassphrase)
        {
            throw PrivateKeyRefused(path); // a password-protected PFX: it carries the key
        }
        catch (PkiException ex)
        {
            throw new ArmErrorException(400, "InvalidCertificate", $"'{path}' could not be read as a certificate: {ex.Message}");
        }

        using (read)
        {
            if (read.Key is not null || read.Format == CertificateFormat.Pfx)
            {
                foreach (var certificate in read.Certificates) certificate.Dispose();
                throw PrivateKeyRefused(path);
            }

            if (read.Certificates.Count != 1)
            {
                foreach (var certificate in read.Certificates) certificate.Dispose();
                throw new ArmErrorException(400, "InvalidCertificate",
                    $"'{path}' holds {read.Certificates.Count} certificates; send exactly one (the CA certificate itself, not its chain).");
            }

            return read.Certificates[0];
        }
    }

    private static ArmErrorException PrivateKeyRefused(string path) =>
        new(400, "InvalidCertificate", $"'{path}' contains a private key. Never upload a private key: send only the public certificate (.pem or .cer); DPS needs nothing else.");
}
