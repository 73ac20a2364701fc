using System.Security.Cryptography;
using CheeseCave.Pki;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// The emulator CA's private key on disk. With a protector (the portal passes one from its Data Protection key ring)
/// it is stored encrypted like the portal's own CA keys, and a plain key left by an older version is encrypted and
/// removed. Without one (the standalone emulator, which must restart unattended and has no key custody of its own)
/// it is an owner-only (0600) PEM in an owner-only folder; docs/security.md says why.
/// </summary>
internal sealed class CaKeyFile(string tlsDirectory, IDataProtector? protector)
{
    private const string PlainFile = "emulator-ca.key.pem";
    private const string ProtectedFile = "emulator-ca.key.protected";

    private string PlainPath => Path.Combine(tlsDirectory, PlainFile);

    private string ProtectedPath => Path.Combine(tlsDirectory, ProtectedFile);

    /// <summary>The key, or null when none is stored yet.</summary>
    public PrivateKey? Load()
    {
        OwnerOnly.Tighten(PlainPath);
        if (protector is null)
        {
            if (File.Exists(ProtectedPath))
            {
                throw new InvalidOperationException(
                    $"The emulator CA key in {tlsDirectory} is encrypted with the portal's Data Protection key ring. Start the emulator from the portal, or delete that folder to make a new emulator CA.");
            }

            return File.Exists(PlainPath) ? PrivateKey.ImportPem(File.ReadAllText(PlainPath), null) : null;
        }

        if (File.Exists(ProtectedPath))
        {
            var pkcs8 = protector.Unprotect(File.ReadAllBytes(ProtectedPath));
            try
            {
                return PrivateKey.ImportPkcs8(pkcs8);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }

        if (!File.Exists(PlainPath))
        {
            return null;
        }

        // An older version's clear-text key: encrypt it, then remove the clear text.
        var key = PrivateKey.ImportPem(File.ReadAllText(PlainPath), null);
        Save(key);
        return key;
    }

    public void Save(PrivateKey key)
    {
        if (protector is null)
        {
            // Clear text but owner-only: see the class summary.
            Write(PlainPath, System.Text.Encoding.ASCII.GetBytes(key.ExportUnencryptedPem(iUnderstandTheKeyIsNotProtected: true)));
            return;
        }

        var pkcs8 = key.ExportPkcs8ForProtectedStore();
        try
        {
            Write(ProtectedPath, protector.Protect(pkcs8));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        File.Delete(PlainPath);
    }

    private static void Write(string path, byte[] content)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, OwnerOnly.Create(FileMode.CreateNew, FileAccess.Write, FileShare.None)))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
