using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>Where the passphrase for keys and PFX files came from; a generated one is written beside the keys.</summary>
internal sealed record Passphrase(string Value, string Source, bool Generated)
{
    /// <summary>
    /// The passphrase create_root_and_intermediate generated (new, or read back from private/ unchanged): device
    /// batches need not stretch it (see BatchEncryption). One a person gave is always stretched in full.
    /// </summary>
    public bool MachineGenerated { get; init; }

    public const string EnvironmentVariable = "CHEESECAVE_PASSPHRASE";

    /// <summary>
    /// Order: --passphrase-file, then CHEESECAVE_PASSPHRASE, then the passphrase generated earlier in private/,
    /// then (only when creating a CA) a new generated one.
    /// </summary>
    public static Passphrase? Resolve(ParsedArguments args, Workspace workspace, Func<string, string?> environment, bool mayGenerate)
    {
        if (args.Get("passphrase-file") is { } file)
        {
            var path = Path.GetFullPath(file, workspace.Root);
            if (!File.Exists(path))
            {
                throw new CliException($"the passphrase file {path} does not exist.");
            }

            var value = FirstLine(File.ReadAllText(path));
            if (value.Length == 0)
            {
                throw new CliException($"the passphrase file {path} is empty.");
            }

            return Checked(value, $"--passphrase-file {file}");
        }

        if (environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return Checked(fromEnvironment, EnvironmentVariable);
        }

        if (File.Exists(workspace.GeneratedPassphrasePath))
        {
            var value = FirstLine(File.ReadAllText(workspace.GeneratedPassphrasePath));
            if (value.Length > 0)
            {
                return new Passphrase(value, workspace.Relative(workspace.GeneratedPassphrasePath), Generated: false) { MachineGenerated = Passphrases.IsGenerated(value) };
            }
        }

        return mayGenerate ? new Passphrase(Passphrases.Generate(), workspace.Relative(workspace.GeneratedPassphrasePath), Generated: true) { MachineGenerated = true } : null;
    }

    public static Passphrase Require(ParsedArguments args, Workspace workspace, Func<string, string?> environment) =>
        Resolve(args, workspace, environment, mayGenerate: false)
        ?? throw new CliException($"no passphrase for the CA keys: set {EnvironmentVariable}, pass --passphrase-file, or keep private/{Workspace.PassphraseFileName} where create_root_and_intermediate wrote it.");

    private static Passphrase Checked(string value, string source)
    {
        try
        {
            Passphrases.RequireStrongEnough(value, source);
        }
        catch (PkiException ex)
        {
            throw new CliException(ex.Message);
        }

        return new Passphrase(value, source, Generated: false);
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
