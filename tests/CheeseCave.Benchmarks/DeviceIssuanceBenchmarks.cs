using BenchmarkDotNet.Attributes;
using CheeseCave.Pki;

namespace CheeseCave.Benchmarks;

/// <summary>One device certificate end to end: new ECDSA P-256 key, certificate from the intermediate, chain PEM.</summary>
[MemoryDiagnoser]
public class DeviceIssuanceBenchmarks : IDisposable
{
    private readonly CertificateAuthority _ca = new(TimeProvider.System);
    private IssuedCertificate? _root;
    private IssuedCertificate? _intermediate;
    private CaCredential? _issuer;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        (_root, _intermediate, _issuer) = BulkIssuance.CreateHierarchy(_ca);
    }

    [Benchmark(Description = "ECDSA P-256 device: key + certificate + chain PEM")]
    public int IssueDevice()
    {
        using var issued = _ca.IssueDeviceCertificate(new DeviceCertificateRequest($"device-{_next++}"), _issuer!);
        return CertificateExport.ToPem(issued.DeviceChain).Length;
    }

    [Benchmark(Description = "ECDSA P-256 device + encrypted PKCS#8 key (100k PBKDF2 rounds)")]
    public int IssueDeviceWithEncryptedKey()
    {
        using var issued = _ca.IssueDeviceCertificate(new DeviceCertificateRequest($"device-{_next++}"), _issuer!);
        return CertificateExport.ToPem(issued.DeviceChain).Length + issued.Key!.ExportEncryptedPem("benchmark passphrase").Length;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _issuer?.Dispose();
        _intermediate?.Dispose();
        _root?.Dispose();
        GC.SuppressFinalize(this);
    }
}
