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
            throw ArmErrors.CertificateRequired(path);
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
                throw ArmErrors.CertificateNotPemOrBase64(path);
            }
        }

        if (data.Length == 0)
        {
            throw ArmErrors.CertificateEmpty(path);
        }

        if (data[0] != 0x30 && Encoding.UTF8.GetString(data).Contains(PemLabels.PrivateKey + "-----", StringComparison.Ordinal))
        {
            throw ArmErrors.PrivateKeyRefused(path);
        }

        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(data);
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.WrongPassphrase)
        {
            throw ArmErrors.PrivateKeyRefused(path); // a password-protected PFX: it carries the key
        }
        catch (PkiException ex)
        {
            throw ArmErrors.CertificateUnreadable(path, ex.Message);
        }

        using (read)
        {
            if (read.Key is not null || read.Format == CertificateFormat.Pfx)
            {
                foreach (var certificate in read.Certificates) certificate.Dispose();
                throw ArmErrors.PrivateKeyRefused(path);
            }

            if (read.Certificates.Count != 1)
            {
                foreach (var certificate in read.Certificates) certificate.Dispose();
                throw ArmErrors.NotExactlyOneCertificate(path, read.Certificates.Count);
            }

            return read.Certificates[0];
        }
    }
}
