namespace CheeseCave.Cli;

/// <summary>
/// A deliberately small parser: positional arguments plus "--name value" / "--name=value" / "--flag", each command
/// declaring which options it takes, so a typo is an error rather than a silently ignored setting.
/// </summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, string?> _options;

    private ParsedArguments(string command, List<string> positional, Dictionary<string, string?> options)
    {
        Command = command;
        Positional = positional;
        _options = options;
    }

    public string Command { get; }

    public IReadOnlyList<string> Positional { get; }

    public static ParsedArguments Parse(string[] args, Func<string, CommandSpec?> specFor)
    {
        if (args.Length == 0)
        {
            throw new CliException("no command given. Run 'cheesecave help' to see the commands.", ExitCodes.Usage);
        }

        var command = args[0];
        var spec = specFor(command) ?? throw new CliException($"unknown command '{command}'. Run 'cheesecave help' to see the commands.", ExitCodes.Usage);
        var positional = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                positional.AddRange(args.Skip(i + 1));
                break;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                positional.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            if (spec.Flags.Contains(name))
            {
                if (value is not null)
                {
                    throw new CliException($"--{name} takes no value.", ExitCodes.Usage);
                }
            }
            else if (spec.ValueOptions.Contains(name))
            {
                if (value is null)
                {
                    if (i + 1 >= args.Length)
                    {
                        throw new CliException($"--{name} needs a value.", ExitCodes.Usage);
                    }

                    value = args[++i];
                }
            }
            else
            {
                throw new CliException($"'{command}' has no option --{name}. Run 'cheesecave help {command}' for its options.", ExitCodes.Usage);
            }

            if (options.ContainsKey(name))
            {
                throw new CliException($"--{name} is given twice.", ExitCodes.Usage);
            }

            options[name] = value;
        }

        if (positional.Count < spec.MinPositional || positional.Count > spec.MaxPositional)
        {
            throw new CliException(
                spec.MaxPositional == 0
                    ? $"'{command}' takes no arguments besides options (usage: {spec.Usage})."
                    : $"wrong number of arguments (usage: {spec.Usage}).",
                ExitCodes.Usage);
        }

        return new ParsedArguments(command, positional, options);
    }

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Get(string name) => _options.TryGetValue(name, out var value) ? value : null;

    public int? GetInt(string name, int min, int max)
    {
        var text = Get(name);
        if (text is null) return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new CliException($"--{name} must be a whole number from {min} to {max} (got '{text}').", ExitCodes.Usage);
        }

        return value;
    }
}

internal sealed record CommandSpec(string Name, string Usage, string Summary, int MinPositional, int MaxPositional, string[] ValueOptions, string[] Flags, string Help);
