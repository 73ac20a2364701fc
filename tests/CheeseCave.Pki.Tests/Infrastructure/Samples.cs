using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki.Tests.Infrastructure;

/// <summary>
/// Valid inputs built once per test run (P-256 only, so cheap), from which the bad-input cases are derived. Nothing
/// here is mutated by the tests: every case copies the bytes it damages.
/// </summary>
public sealed class Samples
{
    private static readonly Lazy<Samples> Instance = new(() => new Samples(), LazyThreadSafetyMode.ExecutionAndPublication);

    private Samples()
    {
        Chain = new TestChain(TestPki.FixedClock());
        CertificatePem = CertificateExport.ToPem(Chain.Device.Certificate);
        using var csrKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=csr-device", csrKey, HashAlgorithmName.SHA256);
        CsrDer = request.CreateSigningRequest();
        CsrPem = request.CreateSigningRequestPem();
    }

    public static Samples Get => Instance.Value;

    /// <summary>Lives for the whole test run; keys are released when the process ends.</summary>
    public TestChain Chain { get; }

    public string CertificatePem { get; }

    public byte[] CsrDer { get; }

    public string CsrPem { get; }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A DER CSR whose last signature byte is flipped: still well-formed, no longer valid.</summary>
    public byte[] CsrWithBadSignature()
    {
        var copy = (byte[])CsrDer.Clone();
        copy[^1] ^= 0x01;
        return copy;
    }

    public static byte[] Csr(Func<CertificateRequest> build) => build().CreateSigningRequest();
}
