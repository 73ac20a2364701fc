using Microsoft.Extensions.Hosting;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// Finds the content root: the folder holding <c>appsettings.json</c> and <c>wwwroot/</c>.
/// In a source checkout both live at the repository root, not in this project.
/// </summary>
public static class PortalContentRoot
{
    /// <summary>The file that marks the repository root of a source checkout.</summary>
    public const string SolutionFileName = "CheeseCavePortal.sln";

    private const string SettingsFileName = "appsettings.json";

    /// <summary>
    /// Returns the content root to use, or <see langword="null"/> to keep the one given explicitly.
    /// <list type="bullet">
    /// <item>An explicit content root (<c>--contentRoot</c>, <c>ASPNETCORE_CONTENTROOT</c>, <c>DOTNET_CONTENTROOT</c>)
    /// is kept when it holds <c>appsettings.json</c>. When it does not but lies inside a checkout (WebApplicationFactory
    /// passes this project's folder), the repository root is used instead.</item>
    /// <item>Running from build output (<c>dotnet run</c>): the folder holds the static web assets development
    /// manifest; the repository root is used, so the top-level files are read as they are edited.</item>
    /// <item>Otherwise (a published app, e.g. the container): the app folder, where the build put
    /// <c>appsettings.json</c> and <c>wwwroot/</c>.</item>
    /// </list>
    /// </summary>
    public static string? Resolve(string[] args, string? appDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(args);

        if (ExplicitContentRoot(args) is { } configured)
        {
            return !File.Exists(Path.Combine(configured, SettingsFileName)) && FindRepositoryRoot(configured) is { } root
                ? root
                : null;
        }

        appDirectory ??= AppContext.BaseDirectory;
        if (IsBuildOutput(appDirectory) && FindRepositoryRoot(appDirectory) is { } repositoryRoot)
        {
            return repositoryRoot;
        }

        return appDirectory;
    }

    /// <summary>Walks up from <paramref name="startDirectory"/> to the folder holding the solution file.</summary>
    public static string? FindRepositoryRoot(string startDirectory)
    {
        for (var directory = new DirectoryInfo(startDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    private static bool IsBuildOutput(string appDirectory) =>
        File.Exists(Path.Combine(appDirectory, $"{typeof(PortalContentRoot).Assembly.GetName().Name}.staticwebassets.runtime.json"));

    /// <summary>The content root as the host would read it: environment variables, then the command line.</summary>
    private static string? ExplicitContentRoot(string[] args)
    {
        var configured = new ConfigurationBuilder()
            .AddEnvironmentVariables("DOTNET_")
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddCommandLine(args)
            .Build()[HostDefaults.ContentRootKey];

        return string.IsNullOrWhiteSpace(configured) ? null : Path.GetFullPath(configured);
    }
}
