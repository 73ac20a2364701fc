using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// The emulator's own CA, created in the data folder on first start and reused after, and a server certificate
/// for localhost and the loopback addresses issued from it at each start. The CA's PEM is the trust bundle.
/// </summary>
internal sealed class EmulatorTls : IDisposable
{
    private const string CaCertFile = "emulator-ca.cert.pem";

    private EmulatorTls(X509Certificate2 caCertificate, X509Certificate2 serverCertificate, string trustBundlePath)
    {
        CaCertificate = caCertificate;
        ServerCertificate = serverCertificate;
        TrustBundlePath = trustBundlePath;
    }

    public X509Certificate2 CaCertificate { get; }

    /// <summary>The server certificate with its private key.</summary>
    public X509Certificate2 ServerCertificate { get; }

    /// <summary>Absolute path of the CA PEM that clients trust.</summary>
    public string TrustBundlePath { get; }

    public static EmulatorTls LoadOrCreate(string directory, IEnumerable<string> extraHosts, TimeProvider time, IDataProtector? keyProtector = null)
    {
        var tlsDir = Path.Combine(directory, "tls");
        OwnerOnly.CreateFolder(tlsDir);
        var certPath = Path.Combine(tlsDir, CaCertFile);
        var keys = new CaKeyFile(tlsDir, keyProtector);
        var authority = new CertificateAuthority(time);
        CaCredential ca;
        if (File.Exists(certPath) && keys.Load() is { } key)
        {
            using var read = CertificateReader.Read(File.ReadAllBytes(certPath));
            ca = CaCredential.Create(read.Certificates[0], key);
        }
        else
        {
            using var root = authority.CreateRoot(new RootCaRequest($"CheeseCave Emulator CA {Environment.MachineName}")
            {
                Validity = TimeSpan.FromDays(3653),
                PathLength = 0,
            });

            keys.Save(root.Key!);
            File.WriteAllText(certPath, CertificateExport.ToPem(root.Certificate));
            ca = CaCredential.Create(root.Certificate, keys.Load()!);
        }

        using (ca)
        {
            var dnsNames = new List<string> { "localhost" };
            var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
            foreach (var host in extraHosts)
            {
                if (IPAddress.TryParse(host, out var address))
                {
                    if (!addresses.Contains(address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)) addresses.Add(address);
                }
                else if (!dnsNames.Contains(host, StringComparer.OrdinalIgnoreCase))
                {
                    dnsNames.Add(host);
                }
            }

            using var server = authority.IssueServerCertificate(new ServerCertificateRequest(dnsNames, addresses), ca);
            using var withKey = server.Key!.AttachToCertificate(server.Certificate);

            // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
            var pfx = withKey.Export(X509ContentType.Pkcs12);
            var serverCertificate = X509CertificateLoader.LoadPkcs12(pfx, null, X509KeyStorageFlags.EphemeralKeySet);
            return new EmulatorTls(X509CertificateLoader.LoadCertificate(ca.Certificate.RawData), serverCertificate, Path.GetFullPath(certPath));
        }
    }

    public void Dispose()
    {
        CaCertificate.Dispose();
        ServerCertificate.Dispose();
    }
}
