namespace CheeseCave.Portal.Hosting.Health;

/// <summary>
/// <c>dotnet CheeseCave.Portal.dll healthcheck [url]</c>: asks a running portal for <c>/health/ready</c> and exits 0
/// when it answers 200, 1 otherwise. The container image's HEALTHCHECK runs it, because the ASP.NET runtime image has
/// no curl or wget. It starts no host and reads no configuration beyond <c>CHEESECAVE_HEALTHCHECK_URL</c>.
/// </summary>
public static class HealthCheckCommand
{
    public const string Verb = "healthcheck";
    public const string UrlVariable = "CHEESECAVE_HEALTHCHECK_URL";
    private const string DefaultUrl = "http://127.0.0.1:8080" + PortalHealth.ReadyPath;

    public static bool IsRequested(string[] args) => args is [Verb, ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var url = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable(UrlVariable) ?? DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address))
        {
            await output.WriteLineAsync($"healthcheck: '{url}' is not an absolute URL.").ConfigureAwait(false);
            return 2;
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(address, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"healthcheck: {address} answered {(int)response.StatusCode}.").ConfigureAwait(false);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"healthcheck: {address} did not answer ({ex.Message}).").ConfigureAwait(false);
            return 1;
        }
    }
}
