using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki;

/// <summary>Reads and checks a PKCS#10 request: signature, key type, and that it does not ask to become a CA.</summary>
public static class CsrReader
{
    public sealed record Csr(X500DistinguishedName SubjectName, PublicKey PublicKey, KeyAlgorithm KeyAlgorithm);

    public static Csr Read(byte[] input, HashAlgorithmName signerHash)
    {
        var der = Decode(input);
        CertificateRequest unchecked_;
        try
        {
            unchecked_ = CertificateRequest.LoadSigningRequest(der, signerHash,
                CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"This is not a readable PKCS#10 certificate request: {ex.Message}", ex);
        }

        try
        {
            _ = CertificateRequest.LoadSigningRequest(der, signerHash, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrorCode.BadCsrSignature,
                "The CSR's signature does not verify: it was altered after signing or not signed by the key it contains. Create it again on the device.", ex);
        }

        var algorithm = KeyAlgorithms.FromPublicKey(unchecked_.PublicKey);
        foreach (var extension in unchecked_.CertificateExtensions)
        {
            if (extension is X509BasicConstraintsExtension { CertificateAuthority: true })
            {
                throw new PkiException(PkiErrorCode.CsrRequestsCa,
                    "The CSR asks for a CA certificate (basicConstraints CA:TRUE). Device certificates are never CAs; create the CSR without the CA extension.");
            }

            if (extension is X509KeyUsageExtension usage && usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
            {
                throw new PkiException(PkiErrorCode.CsrRequestsCa,
                    "The CSR asks for keyCertSign, which only CA certificates may have. Create the CSR without it.");
            }
        }

        return new Csr(unchecked_.SubjectName, unchecked_.PublicKey, algorithm);
    }

    private static byte[] Decode(byte[] input)
    {
        if (input.Length == 0)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "The CSR is empty.");
        }

        if (input[0] == 0x30)
        {
            return input; // DER SEQUENCE
        }

        var text = Encoding.UTF8.GetString(input);
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            foreach (var label in PemLabels.CertificateRequests)
            {
                if (PemLabels.HasBlock(text, label))
                {
                    return PemBlocks.DecodeSingle(text, label);
                }
            }

            var found = PemBlocks.FirstLabel(text);
            throw new PkiException(PkiErrorCode.InvalidInput,
                $"Expected a PEM block labelled CERTIFICATE REQUEST, found '{found}'." + (found == PemLabels.Certificate ? " That is a certificate, not a request." : string.Empty));
        }

        return PemBlocks.DecodeBase64(text, "CSR");
    }
}

/// <summary>Small PEM helpers with error messages that say exactly what is wrong with a block.</summary>
internal static class PemBlocks
{
    public static string FirstLabel(string text)
    {
        var start = text.IndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (start < 0) return "(none)";
        var end = text.IndexOf("-----", start + 11, StringComparison.Ordinal);
        return end < 0 ? "(unterminated)" : text[(start + 11)..end];
    }

    public static byte[] DecodeSingle(string text, string label)
    {
        var begin = PemLabels.BeginLine(label);
        var endMarker = PemLabels.EndLine(label);
        var start = text.IndexOf(begin, StringComparison.Ordinal);
        var end = text.IndexOf(endMarker, start + begin.Length, StringComparison.Ordinal);
        if (end < 0)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"The PEM block '{label}' has no END line: the file looks truncated.");
        }

        return DecodeBase64(text[(start + begin.Length)..end], label);
    }

    public static byte[] DecodeBase64(string body, string what)
    {
        var compact = new string(body.Where(c => !char.IsWhiteSpace(c)).ToArray());
        if (compact.Length == 0)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"The {what} has no content.");
        }

        var buffer = new byte[compact.Length];
        if (!Convert.TryFromBase64String(compact, buffer, out var written))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"The {what} is not valid base64: it is damaged or truncated.");
        }

        return buffer[..written];
    }
}
