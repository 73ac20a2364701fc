using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki;

public enum PfxEncryption
{
    /// <summary>PBES2 AES-256-CBC with PBKDF2-SHA256 and a SHA-256 MAC: OpenSSL 3 and current runtimes.</summary>
    Modern,

    /// <summary>3DES with SHA-1 (as OpenSSL 1.x wrote): for Windows Server 2016, older .NET Framework and embedded stacks.</summary>
    LegacyCompatible,
}

/// <summary>Writes certificates and bundles in the forms devices, DPS and OpenSSL expect.</summary>
public static class CertificateExport
{
    public static string ToPem(X509Certificate2 certificate) => certificate.ExportCertificatePem() + "\n";

    public static byte[] ToDer(X509Certificate2 certificate) => certificate.RawData;

    /// <summary>Several certificates in one PEM, in the order given (leaf first for a chain).</summary>
    public static string ToPem(IEnumerable<X509Certificate2> certificates)
    {
        var builder = new StringBuilder();
        foreach (var certificate in certificates)
        {
            builder.Append(certificate.ExportCertificatePem()).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>
    /// A PFX holding the certificate with its private key and the whole chain above it, so a device loading it has
    /// everything it must send; protected with the given password.
    /// </summary>
    public static byte[] ToPfx(X509Certificate2 certificate, PrivateKey key, IEnumerable<X509Certificate2> chain, string password, PfxEncryption encryption = PfxEncryption.Modern)
    {
        if (string.IsNullOrEmpty(password))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "A PFX holds a private key and needs a password.");
        }

        if (!key.Matches(certificate))
        {
            throw new PkiException(PkiErrorCode.KeyMismatch, "The private key does not belong to the certificate.");
        }

        using var withKey = key.AttachTo(certificate);
        var collection = new X509Certificate2Collection { withKey };
        foreach (var c in chain)
        {
            collection.Add(c);
        }

        return collection.ExportPkcs12(
            encryption == PfxEncryption.LegacyCompatible ? Pkcs12ExportPbeParameters.Pkcs12TripleDesSha1 : Pkcs12ExportPbeParameters.Pbes2Aes256Sha256,
            password);
    }

    public static byte[] ToPfx(IssuedCertificate issued, string password, PfxEncryption encryption = PfxEncryption.Modern) =>
        ToPfx(issued.Certificate, issued.Key ?? throw new PkiException(PkiErrorCode.InvalidInput, "There is no private key to put in a PFX: the certificate was signed from a CSR."),
            issued.IssuerChain, password, encryption);
}
