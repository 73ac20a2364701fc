namespace CheeseCave.Portal.Backup;

/// <summary>The portal's configuration as the verbs see it, and the part of it a backup records.</summary>
internal sealed class PortalConfigurationView(IConfiguration configuration, string contentRoot)
{
    /// <summary>
    /// The web host's own sources in its order (appsettings.json, appsettings.{environment}.json, environment
    /// variables, the command line) read without creating a host builder: the verbs start nothing.
    /// </summary>
    public static PortalConfigurationView Load(string[] args)
    {
        var host = new ConfigurationBuilder().AddEnvironmentVariables("DOTNET_").AddEnvironmentVariables("ASPNETCORE_").AddCommandLine(args).Build();
        var root = Hosting.PortalContentRoot.Resolve(args)
            ?? (host[HostDefaults.ContentRootKey] is { Length: > 0 } explicitRoot ? Path.GetFullPath(explicitRoot) : Directory.GetCurrentDirectory());
        var environment = host[HostDefaults.EnvironmentKey] is { Length: > 0 } name ? name : Environments.Production;
        var configuration = new ConfigurationBuilder()
            .SetBasePath(root)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        return new PortalConfigurationView(configuration, root);
    }

    /// <summary>Names that hold secrets: never written into a backup's settings.</summary>
    private static readonly string[] SecretWords = ["password", "secret", "connectionstring", "token", "apikey", "sas"];

    public string ContentRoot { get; } = contentRoot;

    public IConfiguration Settings => configuration.GetSection(Configuration.CheeseCaveOptions.SectionName);

    public string? this[string key] => configuration[key];

    /// <summary>The CheeseCave section and the listen addresses: what decides where devices and people reach this portal.</summary>
    public IReadOnlyDictionary<string, string> SettingsThatMatter() =>
        configuration.AsEnumerable()
            .Where(p => p.Value is not null)
            .Where(p => p.Key.StartsWith(Configuration.CheeseCaveOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase) || string.Equals(p.Key, "Urls", StringComparison.OrdinalIgnoreCase))
            .Where(p => !SecretWords.Any(w => p.Key.Replace("_", "", StringComparison.Ordinal).Contains(w, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase)
            .GroupBy(p => p.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Value!, StringComparer.OrdinalIgnoreCase);
}
