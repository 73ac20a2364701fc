namespace CheeseCave.Portal.Backup;

/// <summary>The portal's configuration as the verbs see it, and the part of it a backup records.</summary>
internal sealed class PortalConfigurationView(IConfiguration configuration, string contentRoot)
{
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
