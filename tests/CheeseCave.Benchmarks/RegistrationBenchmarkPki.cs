using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;

namespace CheeseCave.Benchmarks;

/// <summary>One device: its registration ID and the certificate context that sends leaf + intermediate.</summary>
internal sealed record DeviceCredential(string RegistrationId, SslStreamCertificateContext Context);

/// <summary>Root → intermediate, and the device population under the intermediate, issued up front.</summary>
internal sealed class BenchmarkPki : IDisposable
{
    public BenchmarkPki(int devices)
    {
        var ca = new CertificateAuthority(TimeProvider.System);
        var (root, intermediate, issuer) = BulkIssuance.CreateHierarchy(ca);
        using (root)
        using (intermediate)
        using (issuer)
        {
            Root = X509CertificateLoader.LoadCertificate(root.Certificate.RawData);
            var population = new DeviceCredential[devices];
            Parallel.For(0, devices, i =>
            {
                var id = "bench-device-" + i.ToString("D6", CultureInfo.InvariantCulture);
                // The issued key is kept (not disposed): the leaf below signs with it in every handshake.
                var issued = ca.IssueDeviceCertificate(new DeviceCertificateRequest(id), issuer);
                var leaf = issued.Key!.AttachToCertificate(issued.Certificate);
                var intermediates = new X509Certificate2Collection(issued.DeviceChain.Skip(1).Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray());
                population[i] = new DeviceCredential(id, SslStreamCertificateContext.Create(leaf, intermediates, offline: true));
            });
            Devices = population;
        }
    }

    public X509Certificate2 Root { get; }

    public DeviceCredential[] Devices { get; }

    public void Dispose() => Root.Dispose();
}
