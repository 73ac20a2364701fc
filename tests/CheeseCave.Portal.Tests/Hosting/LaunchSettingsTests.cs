using System.Text.Json;
using CheeseCave.Portal.Hosting;

namespace CheeseCave.Portal.Tests.Hosting;

public sealed class LaunchSettingsTests
{
    [Fact]
    public void The_README_run_command_starts_the_portal_in_Production()
    {
        // `dotnet run --project src/CheeseCave.Portal` takes the first profile of launchSettings.json.
        var root = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory)!;
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "src", "CheeseCave.Portal", "Properties", "launchSettings.json")));

        var first = settings.RootElement.GetProperty("profiles").EnumerateObject().First().Value;

        Assert.Equal("Project", first.GetProperty("commandName").GetString());
        Assert.Equal("Production", first.GetProperty("environmentVariables").GetProperty("ASPNETCORE_ENVIRONMENT").GetString());
    }
}
