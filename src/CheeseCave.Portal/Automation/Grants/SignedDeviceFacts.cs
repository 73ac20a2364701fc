using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// The inventory facts of a certificate signed under a grant, the same values <see cref="CertificateFacts.Fill(SetupDevice, System.Security.Cryptography.X509Certificates.X509Certificate2)"/>
/// stores, taken the cheap way because this runs for every CSR: what the CA put into the certificate (name, serial,
/// validity, key type), the PEM texts it already encoded and the thumbprints hashed from the DER. Parsing the
/// certificate back into an X509Certificate2 cost about a sixth of each request.
/// </summary>
internal static class SignedDeviceFacts
{
    public static void Fill(SetupDevice device, IssuedCertificate issued)
    {
        var raw = issued.RawData.Span;
        device.Issuer = issued.IssuerName;
        device.SerialNumber = issued.SerialNumber;
        device.KeyType = issued.SubjectKeyAlgorithm.ToDisplay();
#pragma warning disable CA5350 // the thumbprint DPS and the portal show, an identifier rather than a security check
        device.ThumbprintSha1 = Convert.ToHexString(SHA1.HashData(raw));
#pragma warning restore CA5350
        device.ThumbprintSha256 = Convert.ToHexString(SHA256.HashData(raw));
        device.NotBefore = issued.NotBefore;
        device.NotAfter = issued.NotAfter;
        device.CertificatePem = issued.CertificatePem;
        device.ChainPem = issued.DeviceChainPem;
    }
}
