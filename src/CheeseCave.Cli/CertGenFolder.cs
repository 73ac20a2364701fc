using System.Security.Cryptography;
using System.Text;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>
/// Recognises a folder made by Microsoft's certGen.sh (certs/, private/, index.txt, its .cnf files, password 1234)
/// that cheesecave has not adopted yet, and reads its keys with certGen's password for adoption only.
/// </summary>
internal static class CertGenFolder
{
    /// <summary>certGen.sh's hard-coded password for the CA keys and every PFX (root_ca_password, server_pfx_password).</summary>
    public const string DefaultPassword = "1234";

    public const string StagingName = ".cheesecave-adopt";

    private static readonly string[] Traces = ["index.txt", "serial", "openssl_root_ca.cnf", "openssl_device_intermediate_ca.cnf", "certGen.sh", "newcerts"];

    /// <summary>certGen's CA files without cheesecave's settings: a folder to adopt before use.</summary>
    public static bool IsUnadopted(Workspace ws) =>
        File.Exists(ws.RootCertPath) && !File.Exists(ws.SettingsPath) && Traces.Any(t => Path.Exists(Path.Combine(ws.Root, t)));

    public static string StagingPath(Workspace ws) => Path.Combine(ws.Root, StagingName);

    /// <summary>Stops a command that would use or replace a certGen folder's CA before it is adopted, or a half-adopted one.</summary>
    public static void RefuseUnadopted(Workspace ws, string what)
    {
        if (Directory.Exists(StagingPath(ws)))
        {
            throw new CliException($"an earlier 'cheesecave adopt_certgen' in {ws.Root} was interrupted ({StagingName}/ is left over), so this folder is half adopted; run 'cheesecave adopt_certgen' again: it puts certGen's files back first and then adopts them.");
        }

        if (IsUnadopted(ws))
        {
            throw new CliException($"{ws.Root} is a certGen.sh folder whose keys still use certGen's password '{DefaultPassword}'; cheesecave will not {what} until it is adopted. Run 'cheesecave adopt_certgen' there first: it re-encrypts the keys and PFX files under your passphrase and keeps the CA you uploaded to DPS.");
        }
    }

    /// <summary>
    /// Reads a certGen key file: encrypted PKCS#8 (OpenSSL 3's genrsa -aes256), the legacy "Proc-Type: 4,ENCRYPTED"
    /// PEM (OpenSSL 1.x), or an unencrypted key (device and verification keys).
    /// </summary>
    public static PrivateKey ReadKey(string path, string password, string relativePath)
    {
        var pem = File.ReadAllText(path);
        var legacy = pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal);
        try
        {
            return legacy ? PrivateKey.ImportPem(DecryptLegacyPem(pem, password, relativePath), null) : PrivateKey.ImportPem(pem, password);
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.WrongPassphrase || (legacy && ex.Code == PkiErrorCode.UnreadableKey))
        {
            // A wrong password for the legacy format can still unpad by chance; the key that comes out is then garbage.
            throw WrongPassword(relativePath);
        }
        catch (PkiException ex)
        {
            throw new CliException($"{relativePath} is not a key cheesecave can read ({ex.Message}); nothing was changed.");
        }
    }

    /// <summary>Whether a key file opens with certGen's password (a certGen key that lost its folder's other files).</summary>
    public static bool OpensWithDefaultPassword(string path)
    {
        try
        {
            using var key = ReadKey(path, DefaultPassword, path);
            return true;
        }
        catch (CliException)
        {
            return false;
        }
    }

    public static CliException WrongPassword(string relativePath) =>
        new($"cannot decrypt {relativePath} with certGen's password: it is not '{DefaultPassword}' (or the file is damaged); if you changed the password in certGen.sh, pass it with --certgen-password-file. Nothing was changed.");

    /// <summary>
    /// OpenSSL's traditional PEM encryption: key = EVP_BytesToKey(MD5, salt = first 8 bytes of the IV, one round),
    /// AES-CBC. Only ever used to read a certGen key once, for adoption.
    /// </summary>
    private static string DecryptLegacyPem(string pem, string password, string relativePath)
    {
        var lines = pem.Split('\n', StringSplitOptions.TrimEntries);
        var dekInfo = lines.FirstOrDefault(l => l.StartsWith("DEK-Info:", StringComparison.Ordinal))?["DEK-Info:".Length..].Trim().Split(',');
        var keyLength = dekInfo?[0] switch
        {
            "AES-256-CBC" => 32,
            "AES-192-CBC" => 24,
            "AES-128-CBC" => 16,
            _ => throw new CliException($"{relativePath} uses the legacy cipher '{dekInfo?[0]}'; convert it first: openssl pkcs8 -topk8 -in {relativePath} -out new.key.pem"),
        };
        var label = lines.First(l => l.StartsWith("-----BEGIN ", StringComparison.Ordinal))["-----BEGIN ".Length..].TrimEnd('-');
        var body = string.Concat(lines.SkipWhile(l => !l.StartsWith("DEK-Info:", StringComparison.Ordinal)).Skip(1).TakeWhile(l => !l.StartsWith("-----END", StringComparison.Ordinal)));
        var iv = Convert.FromHexString(dekInfo![1]);
        var secret = Encoding.UTF8.GetBytes(password);
        var key = new byte[keyLength];
        var previous = Array.Empty<byte>();
        for (var filled = 0; filled < keyLength;)
        {
#pragma warning disable CA5351 // reading OpenSSL's legacy format requires its MD5-based derivation; nothing is written this way
            previous = MD5.HashData([.. previous, .. secret, .. iv.AsSpan(0, 8)]);
#pragma warning restore CA5351
            var take = Math.Min(previous.Length, keyLength - filled);
            previous.AsSpan(0, take).CopyTo(key.AsSpan(filled));
            filled += take;
        }

        try
        {
            using var aes = Aes.Create();
            aes.Key = key;
            var der = aes.DecryptCbc(Convert.FromBase64String(body), iv, PaddingMode.PKCS7);
            return PemEncoding.WriteString(label, der);
        }
        catch (CryptographicException)
        {
            throw WrongPassword(relativePath);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
