namespace CheeseCave.Portal.Hosting.Telemetry;

/// <summary>
/// Keeps secrets out of span attributes: set-up and invitation links carry their one-time token in the path, key
/// export links their download id, and a query string may hold a SAS signature; none of them is exported.
/// </summary>
internal static class TelemetryPaths
{
    private static readonly string[] SecretSegments = ["/setup", "/invite"];

    public static string Redact(PathString path)
    {
        foreach (var prefix in SecretSegments)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase, out var rest) && rest.HasValue && rest.Value != "/")
            {
                return $"{prefix}/{{token}}";
            }
        }

        var value = path.Value ?? "/";
        var exports = value.IndexOf("/key-exports/", StringComparison.OrdinalIgnoreCase);
        return exports < 0 ? value : $"{value[..exports]}/key-exports/{{download}}";
    }

    public static string? WithoutQuery(Uri? uri) =>
        uri is { IsAbsoluteUri: true } ? uri.GetLeftPart(UriPartial.Path) : null;
}
