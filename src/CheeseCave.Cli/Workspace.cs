using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>The folder certGen.sh works in: certs/ and private/ under it, with certGen's file names.</summary>
internal sealed class Workspace(string root)
{
    public const string RootName = "azure-iot-test-only.root.ca";
    public const string IntermediateName = "azure-iot-test-only.intermediate";
    public const string ChainName = "azure-iot-test-only.chain.ca";
    public const string PassphraseFileName = "passphrase.txt";
    public const string SettingsFileName = "cheesecave.json";

    public string Root { get; } = Path.GetFullPath(root);

    public string CertsDir => Path.Combine(Root, "certs");

    public string PrivateDir => Path.Combine(Root, "private");

    public string RootCertPath => Cert(RootName);

    public string IntermediateCertPath => Cert(IntermediateName);

    public string ChainPath => Cert(ChainName);

    public string RootKeyPath => Key(RootName);

    public string IntermediateKeyPath => Key(IntermediateName);

    public string GeneratedPassphrasePath => Path.Combine(PrivateDir, PassphraseFileName);

    public string SettingsPath => Path.Combine(Root, SettingsFileName);

    public string Cert(string name) => Path.Combine(CertsDir, name + ".cert.pem");

    public string Key(string name) => Path.Combine(PrivateDir, name + ".key.pem");

    public string Pfx(string name) => Path.Combine(CertsDir, name + ".cert.pfx");

    public string Relative(string path) => Path.GetRelativePath(Root, path);

    /// <summary>Where a renewal moves the files it replaces: archive/&lt;UTC time to the second&gt;/certs|private/….</summary>
    public string ArchiveDirectory(DateTimeOffset now) =>
        Path.Combine(Root, "archive", now.UtcDateTime.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));

    public IEnumerable<string> ExistingCaFiles() =>
        new[] { RootCertPath, RootKeyPath, IntermediateCertPath, IntermediateKeyPath, ChainPath, SettingsPath }.Where(File.Exists);

    public WorkspaceSettings? ReadSettings()
    {
        if (!File.Exists(SettingsPath)) return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(SettingsPath), CliJsonContext.Default.WorkspaceSettings);
        }
        catch (JsonException ex)
        {
            throw new CliException($"{SettingsPath} is not valid JSON ({ex.Message}); fix or delete it.");
        }
    }

    public static string SerializeSettings(WorkspaceSettings settings) =>
        JsonSerializer.Serialize(settings, CliJsonContext.Default.WorkspaceSettings) + "\n";

    /// <summary>
    /// Loads the root or intermediate CA with its key, decrypting with the passphrase. The certificates are held to
    /// the same CA rules as a portal import (<see cref="CaImportPolicy"/>), checked at <paramref name="now"/>, so a
    /// CA the portal would refuse is not used here either.
    /// </summary>
    public CaCredential LoadCa(bool intermediate, string passphrase, DateTimeOffset now)
    {
        CertGenFolder.RefuseUnadopted(this, "sign with its CA");
        var certPath = intermediate ? IntermediateCertPath : RootCertPath;
        var keyName = intermediate ? IntermediateName : RootName;
        if (!File.Exists(certPath) || !File.Exists(Key(keyName)))
        {
            throw new CliException(File.Exists(RootCertPath) && intermediate
                ? $"there is no intermediate CA in {CertsDir}; this folder has only a root. Use the root-signed command instead."
                : $"no CA found in {Root} (missing {Relative(certPath)}). Run 'cheesecave create_root_and_intermediate' first, or pass --dir to the folder that holds certs/ and private/.");
        }

        var certificate = ReadSingleCertificate(certPath);
        var chain = intermediate ? new List<X509Certificate2> { ReadSingleCertificate(RootCertPath) } : [];
        Require(CaImportPolicy.CheckCa(certificate, intermediate ? "The intermediate CA" : "The root CA", now), certPath);
        if (intermediate)
        {
            Require(CaImportPolicy.CheckCa(chain[0], "The root CA", now), RootCertPath);
        }

        var store = new EncryptedPemFileKeyStore(PrivateDir, passphrase);
        ISigningKey key;
        try
        {
            key = store.OpenAsync(keyName).GetAwaiter().GetResult();
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.WrongPassphrase)
        {
            if (ReadSettings() is null && CertGenFolder.OpensWithDefaultPassword(Key(keyName)))
            {
                // certGen's files without its index.txt or .cnf files: still certGen's keys, still its password.
                throw new CliException($"{Relative(Key(keyName))} is encrypted with certGen.sh's password '{CertGenFolder.DefaultPassword}', not your passphrase: this is a certGen folder. Run 'cheesecave adopt_certgen' in {Root} first; it re-encrypts the keys and PFX files under your passphrase and keeps the CA you uploaded to DPS.");
            }

            throw new CliException(ReadSettings()?.AdoptedFrom is { } origin
                ? $"cannot decrypt {Relative(Key(keyName))}: the passphrase is wrong. This folder was adopted from {origin}; use the passphrase given to adopt_certgen (CHEESECAVE_PASSPHRASE, --passphrase-file or private/{PassphraseFileName}), not certGen's '{CertGenFolder.DefaultPassword}'."
                : $"cannot decrypt {Relative(Key(keyName))}: the passphrase is wrong. Use the same CHEESECAVE_PASSPHRASE or --passphrase-file as when the CA was created.");
        }

        return CaCredential.Create(certificate, key, chain);
    }

    private void Require(CaPolicyProblem? problem, string path)
    {
        if (problem is not null)
        {
            throw new CliException($"{Relative(path)}: {problem.Message} {problem.WhatToDo}");
        }
    }

    private static X509Certificate2 ReadSingleCertificate(string path)
    {
        using var read = CertificateReader.Read(File.ReadAllBytes(path));
        return read.Certificates[0];
    }
}

/// <summary>What the folder's CA was created with, so later device certificates follow the same preset.</summary>
internal sealed record WorkspaceSettings(
    [property: JsonPropertyName("preset")] string Preset,
    [property: JsonPropertyName("keyType")] string KeyType,
    [property: JsonPropertyName("deviceDays")] int DeviceDays,
    [property: JsonPropertyName("verificationDays")] int VerificationDays,
    [property: JsonPropertyName("adoptedFrom")] string? AdoptedFrom = null);

[JsonSerializable(typeof(WorkspaceSettings))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class CliJsonContext : JsonSerializerContext;
