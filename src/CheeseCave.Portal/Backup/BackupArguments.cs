using System.Globalization;
using CheeseCave.Pki;

namespace CheeseCave.Portal.Backup;

/// <summary>The backup and restore verbs' own options; anything else is passed on as portal configuration.</summary>
internal sealed record BackupArguments(string Verb, string File, string PassphraseFile, bool Force, int Iterations, string? DataDirectory, string[] ConfigurationArgs)
{
    public static bool TryParse(string[] args, out BackupArguments parsed, out string problem)
    {
        var verb = args[0];
        string? file = null, passphraseFile = null, dataDirectory = null;
        var force = false;
        var iterations = BackupHeader.DefaultIterations;
        var rest = new List<string>();
        parsed = new BackupArguments(verb, "", "", false, iterations, null, []);
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (name)
            {
                case "--out" when verb == BackupCommand.BackupVerb:
                case "--from" when verb == BackupCommand.RestoreVerb:
                    file = Next();
                    break;
                case "--passphrase-file":
                    passphraseFile = Next();
                    break;
                case "--data-directory":
                    dataDirectory = Next();
                    break;
                case "--force" when verb == BackupCommand.RestoreVerb:
                    force = true;
                    break;
                case "--iterations" when verb == BackupCommand.BackupVerb:
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
                        || iterations is < BackupHeader.MinimumIterations or > KeyDerivationLimits.MaxIterations)
                    {
                        problem = string.Create(CultureInfo.InvariantCulture, $"--iterations takes a number from {BackupHeader.MinimumIterations:N0} to {KeyDerivationLimits.MaxIterations:N0}.");
                        return false;
                    }

                    break;
                default:
                    if (!name.Contains('=', StringComparison.Ordinal) && name.StartsWith("--", StringComparison.Ordinal) && !name.Contains(':', StringComparison.Ordinal))
                    {
                        problem = $"'{name}' is not an option of {verb}.";
                        return false;
                    }

                    rest.Add(name); // portal configuration, e.g. --CheeseCave:DataDirectory=/srv/cheesecave
                    break;
            }
        }

        if (file is null || passphraseFile is null)
        {
            problem = verb == BackupCommand.BackupVerb ? "--out and --passphrase-file are required." : "--from and --passphrase-file are required.";
            return false;
        }

        parsed = new BackupArguments(verb, file, passphraseFile, force, iterations, dataDirectory, [.. rest]);
        problem = "";
        return true;
    }
}
