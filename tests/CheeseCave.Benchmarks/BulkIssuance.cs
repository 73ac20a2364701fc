using System.Diagnostics;
using System.Globalization;
using CheeseCave.Pki;

namespace CheeseCave.Benchmarks;

/// <summary>
/// A measured bulk run: N device certificates (key, certificate, chain PEM) on one thread and on every core,
/// as a batch issuance would do it. Prints devices per second.
/// </summary>
public static class BulkIssuance
{
    public static (IssuedCertificate Root, IssuedCertificate Intermediate, CaCredential Issuer) CreateHierarchy(CertificateAuthority ca)
    {
        var root = ca.CreateRoot(new RootCaRequest("Benchmark Root CA"));
        using var rootCredential = CaCredential.Create(root.Certificate, PrivateKey.ImportPkcs8(root.Key!.ExportPkcs8ForProtectedStore()));
        var intermediate = ca.CreateIntermediate(new IntermediateCaRequest("Benchmark Intermediate CA"), rootCredential);
        var issuer = CaCredential.Create(intermediate.Certificate, PrivateKey.ImportPkcs8(intermediate.Key!.ExportPkcs8ForProtectedStore()), [root.Certificate]);
        return (root, intermediate, issuer);
    }

    public static int Run(int count, TextWriter output)
    {
        var ca = new CertificateAuthority(TimeProvider.System);
        var (root, intermediate, issuer) = CreateHierarchy(ca);
        using (root)
        using (intermediate)
        using (issuer)
        {
            Issue(ca, issuer, Math.Min(count, 500), 1); // warm-up: JIT and OpenSSL's first-use costs
            foreach (var threads in new[] { 1, Environment.ProcessorCount })
            {
                var stopwatch = Stopwatch.StartNew();
                var bytes = Issue(ca, issuer, count, threads);
                stopwatch.Stop();
                var rate = count / stopwatch.Elapsed.TotalSeconds;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{count} ECDSA P-256 devices (key + certificate + chain PEM) on {threads} thread(s): {stopwatch.Elapsed.TotalSeconds:0.00} s, {rate:0} devices/s ({bytes / count} bytes of PEM each)"));
            }
        }

        return 0;
    }

    private static long Issue(CertificateAuthority ca, CaCredential issuer, int count, int threads)
    {
        long total = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => 0L, (i, _, sum) =>
        {
            using var issued = ca.IssueDeviceCertificate(new DeviceCertificateRequest("device-" + i.ToString(CultureInfo.InvariantCulture)), issuer);
            return sum + issued.DeviceChainPem.Length;
        }, sum => Interlocked.Add(ref total, sum));
        return total;
    }
}
