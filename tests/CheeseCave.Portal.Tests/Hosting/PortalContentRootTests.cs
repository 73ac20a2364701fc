using CheeseCave.Portal.Hosting;

namespace CheeseCave.Portal.Tests.Hosting;

public sealed class PortalContentRootTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cheesecave-root-");

    [Fact]
    public void Build_output_inside_a_checkout_uses_the_repository_root()
    {
        File.WriteAllText(Path.Combine(_root.FullName, PortalContentRoot.SolutionFileName), "");
        var bin = Directory.CreateDirectory(Path.Combine(_root.FullName, "src", "CheeseCave.Portal", "bin", "Debug", "net10.0"));
        File.WriteAllText(Path.Combine(bin.FullName, "CheeseCave.Portal.staticwebassets.runtime.json"), "{}");

        Assert.Equal(_root.FullName, PortalContentRoot.Resolve([], bin.FullName));
    }

    [Fact]
    public void A_published_app_uses_its_own_folder_even_inside_a_checkout()
    {
        File.WriteAllText(Path.Combine(_root.FullName, PortalContentRoot.SolutionFileName), "");
        var publish = Directory.CreateDirectory(Path.Combine(_root.FullName, "publish"));

        Assert.Equal(publish.FullName, PortalContentRoot.Resolve([], publish.FullName));
    }

    [Fact]
    public void The_project_folder_given_by_WebApplicationFactory_is_redirected_to_the_repository_root()
    {
        File.WriteAllText(Path.Combine(_root.FullName, PortalContentRoot.SolutionFileName), "");
        var project = Directory.CreateDirectory(Path.Combine(_root.FullName, "src", "CheeseCave.Portal"));

        Assert.Equal(_root.FullName, PortalContentRoot.Resolve([$"--contentRoot={project.FullName}"], project.FullName));
    }

    [Fact]
    public void An_explicit_content_root_holding_appsettings_is_kept()
    {
        File.WriteAllText(Path.Combine(_root.FullName, "appsettings.json"), "{}");

        Assert.Null(PortalContentRoot.Resolve(["--contentRoot", _root.FullName], AppContext.BaseDirectory));
    }

    public void Dispose() => _root.Delete(recursive: true);
}
