using BenchmarkDotNet.Attributes;
using CheeseCave.Pki;

namespace CheeseCave.Benchmarks;

/// <summary>
/// One device certificate end to end: new ECDSA P-256 key, certificate from the intermediate, chain PEM; then what
/// the CLI adds per device (encrypted key and PFX), with the batch's one derivation and with one per file.
/// </summary>
[MemoryDiagnoser]
public class DeviceIssuanceBenchmarks : IDisposable
{
    private readonly CertificateAuthority _ca = new(TimeProvider.System);
    private IssuedCertificate? _root;
    private IssuedCertificate? _intermediate;
    private CaCredential? _issuer;
    private BatchEncryption? _batch;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        (_root, _intermediate, _issuer) = BulkIssuance.CreateHierarchy(_ca);
        _batch = new BatchEncryption("benchmark passphrase");
    }

    [Benchmark(Description = "ECDSA P-256 device: key + certificate + chain PEM")]
    public int IssueDevice()
    {
        using var issued = _ca.IssueDeviceCertificate(new DeviceCertificateRequest($"device-{_next++}"), _issuer!);
        return issued.DeviceChainPem.Length;
    }

    [Benchmark(Description = "same + encrypted PKCS#8 key and PFX, batch derivation (what the CLI does per device)")]
    public int IssueDeviceWithBatchEncryptedKeyAndPfx()
    {
        using var issued = _ca.IssueDeviceCertificate(new DeviceCertificateRequest($"device-{_next++}"), _issuer!);
        return issued.DeviceChainPem.Length + issued.FullChainPem.Length + _batch!.EncryptPrivateKeyPem(issued.Key!).Length + _batch.ExportPfx(issued).Length;
    }

    [Benchmark(Description = "same + encrypted PKCS#8 key, its own 100k-round derivation (before: per device)")]
    public int IssueDeviceWithEncryptedKey()
    {
        using var issued = _ca.IssueDeviceCertificate(new DeviceCertificateRequest($"device-{_next++}"), _issuer!);
        return issued.DeviceChainPem.Length + issued.Key!.ExportEncryptedPem("benchmark passphrase").Length;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _batch?.Dispose();
        _issuer?.Dispose();
        _intermediate?.Dispose();
        _root?.Dispose();
        GC.SuppressFinalize(this);
    }
}
