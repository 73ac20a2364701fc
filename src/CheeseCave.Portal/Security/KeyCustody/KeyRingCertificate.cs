using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;

namespace CheeseCave.Portal.Security.KeyCustody;

/// <summary>Loads the key-ring certificate from a PFX file or a certificate store, refusing one that cannot decrypt.</summary>
internal static class KeyRingCertificate
{
    public static X509Certificate2 Load(KeyRingCertificateOptions options)
    {
        var certificate = !string.IsNullOrWhiteSpace(options.Path) ? FromFile(options) : FromStore(options.Thumbprint!);
        using var rsa = certificate.GetRSAPrivateKey();
        if (rsa is null)
        {
            certificate.Dispose();
            throw Refused("the key-ring certificate has no RSA private key (XML encryption of the key ring needs RSA). Make one with `openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj /CN=cheesecave-keyring -keyout k.pem -out c.pem && openssl pkcs12 -export -inkey k.pem -in c.pem -out keyring.pfx`.");
        }

        return certificate;
    }

    private static X509Certificate2 FromFile(KeyRingCertificateOptions options)
    {
        var password = options.Password;
        if (password is null && !string.IsNullOrWhiteSpace(options.PasswordFile))
        {
            password = ReadPasswordFile(options.PasswordFile);
        }

        try
        {
            // The same iteration caps as every other PFX the portal reads; the key is kept in memory only.
            return X509CertificateLoader.LoadPkcs12FromFile(options.Path!, password, X509KeyStorageFlags.EphemeralKeySet, KeyDerivationLimits.Pkcs12);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw Refused($"the key-ring certificate '{options.Path}' cannot be read ({ex.Message}). Check CheeseCave:KeyRing:Certificate:Path and its Password or PasswordFile.", ex);
        }
    }

    private static string ReadPasswordFile(string path)
    {
        try
        {
            return File.ReadAllText(path).TrimEnd('\r', '\n');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Refused($"the key-ring certificate's password file '{path}' cannot be read ({ex.Message}).", ex);
        }
    }

    private static X509Certificate2 FromStore(string thumbprint)
    {
        var locations = OperatingSystem.IsWindows()
            ? new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine }
            : [StoreLocation.CurrentUser]; // Linux has no machine-wide "My" store
        foreach (var location in locations)
        {
            using var store = new X509Store(StoreName.My, location);
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint.Replace(" ", "", StringComparison.Ordinal), validOnly: false);
            if (found.Count > 0)
            {
                return found[0];
            }
        }

        throw Refused($"no certificate with thumbprint {thumbprint} is in the 'My' store of {string.Join(" or ", locations)}. Import it there with its private key, or use CheeseCave:KeyRing:Certificate:Path.");
    }

    private static InvalidOperationException Refused(string reason, Exception? inner = null) =>
        new("The portal will not start: " + reason, inner);
}
