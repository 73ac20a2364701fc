using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki.Tests.Infrastructure;

/// <summary>A fresh folder per test for files handed to openssl; deleted with everything in it on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cheesecave-pki-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string this[string fileName] => System.IO.Path.Combine(Path, fileName);

    /// <summary>Writes text (UTF-8, no BOM) and returns the file name relative to the folder.</summary>
    public string Write(string fileName, string content)
    {
        File.WriteAllText(this[fileName], content, new UTF8Encoding(false));
        return fileName;
    }

    public string Write(string fileName, byte[] content)
    {
        File.WriteAllBytes(this[fileName], content);
        return fileName;
    }

    public string WritePem(string fileName, params X509Certificate2[] certificates) =>
        Write(fileName, CertificateExport.ToPem(certificates));

    public string Read(string fileName) => File.ReadAllText(this[fileName]);

    public byte[] ReadBytes(string fileName) => File.ReadAllBytes(this[fileName]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
