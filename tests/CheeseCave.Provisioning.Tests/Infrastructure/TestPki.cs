using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Provisioning.DeviceRegistration;

namespace CheeseCave.Provisioning.Tests.Infrastructure;

/// <summary>Root → intermediate CA made with CheeseCave.Pki, and device certificates (with keys) under the intermediate.</summary>
public sealed class TestPki : IDisposable
{
    public TestPki(string name = "Cave")
    {
        Authority = new CertificateAuthority();
        Root = Authority.CreateRoot(new RootCaRequest($"{name} Root CA")).ToCaCredential();
        Intermediate = Authority.CreateIntermediate(new IntermediateCaRequest($"{name} Intermediate CA"), Root).ToCaCredential();
    }

    public CertificateAuthority Authority { get; }

    public CaCredential Root { get; }

    public CaCredential Intermediate { get; }

    /// <summary>The proof-of-possession certificate for <paramref name="code"/>, signed by <paramref name="signer"/> (the root by default).</summary>
    public X509Certificate2 VerificationCertificate(string code, CaCredential? signer = null)
    {
        using var issued = Authority.CreateVerificationCertificate(new VerificationCertificateRequest(code), signer ?? Root);
        return X509CertificateLoader.LoadCertificate(issued.Certificate.RawData);
    }

    /// <summary>A device leaf with its key and the intermediate it must send.</summary>
    public (X509Certificate2 Leaf, X509Certificate2Collection Chain) IssueDevice(string registrationId)
    {
        using var issued = Authority.IssueDeviceCertificate(new DeviceCertificateRequest(registrationId), Intermediate);
        using var attached = issued.Key!.AttachToCertificate(issued.Certificate);
        var leaf = X509CertificateLoader.LoadPkcs12(attached.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.EphemeralKeySet);
        return (leaf, [.. issued.DeviceChain.Skip(1).Select(c => X509CertificateLoader.LoadCertificate(c.RawData))]);
    }

    public DeviceRegistrationRequest Request(string idScope, string registrationId, bool sendChain = true)
    {
        var (leaf, chain) = IssueDevice(registrationId);
        return new DeviceRegistrationRequest(idScope, leaf, sendChain ? chain : null);
    }

    public void Dispose()
    {
        Intermediate.Dispose();
        Root.Dispose();
    }
}
