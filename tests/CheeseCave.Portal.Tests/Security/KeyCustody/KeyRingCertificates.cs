using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Portal.Tests.Security.KeyCustody;

/// <summary>A throw-away RSA key-ring certificate written as a password-protected PFX, as an operator would supply it.</summary>
internal sealed class KeyRingCertificates : IDisposable
{
    public const string Password = "key-ring pfx password";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cheesecave-keyring-cert-");

    public KeyRingCertificates()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=cheesecave-keyring-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        PfxPath = Path.Combine(_folder.FullName, "keyring.pfx");
        File.WriteAllBytes(PfxPath, certificate.Export(X509ContentType.Pkcs12, Password));
        Certificate = X509CertificateLoader.LoadPkcs12FromFile(PfxPath, Password);
    }

    public string PfxPath { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>The settings that put the ring in the database, encrypted with this certificate.</summary>
    public IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("CheeseCave:KeyRing:Store", "Database"),
        new("CheeseCave:KeyRing:Certificate:Path", PfxPath),
        new("CheeseCave:KeyRing:Certificate:Password", Password),
    ];

    public void Dispose()
    {
        Certificate.Dispose();
        _folder.Delete(recursive: true);
    }
}
