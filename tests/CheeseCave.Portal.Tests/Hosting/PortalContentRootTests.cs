using CheeseCave.Portal.Hosting;

namespace CheeseCave.Portal.Tests.Hosting;

public sealed class PortalContentRootTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cheesecave-root-");

    [Fact]
    public void BuildOutputInsideACheckoutUsesTheRepositoryRoot()
    {
        File.WriteAllText(Path.Combine(_root.FullName, PortalContentRoot.SolutionFileName), "");
        var bin = Directory.CreateDirectory(Path.Combine(_root.FullName, "src", "CheeseCave.Portal", "bin", "Debug", "net10.0"));
        File.WriteAllText(Path.Combine(bin.FullName, "CheeseCave.Portal.staticwebassets.runtime.json"), "{}");

        Assert.Equal(_root.FullName, PortalContentRoot.Resolve([], bin.FullName));
    }

    [Fact]
    public void PublishedAppUsesItsOwnFolderEvenInsideACheckout()
    {
        File.WriteAllText(Path.Combine(_root.FullName, PortalContentRoot.SolutionFileName), "");
        var publish = Directory.CreateDirectory(Path.Combine(_root.FullName, "publish"));

        Assert.Equal(publish.FullName, PortalContentRoot.Resolve([], publish.FullName));
    }

    [Fact]
    public void ProjectFolderGivenByWebApplicationFactoryIsRedirectedToTheRepositoryRoot()
    {
        File.WriteAllText(Path.Combine(_root.FullName, PortalContentRoot.SolutionFileName), "");
        var project = Directory.CreateDirectory(Path.Combine(_root.FullName, "src", "CheeseCave.Portal"));

        Assert.Equal(_root.FullName, PortalContentRoot.Resolve([$"--contentRoot={project.FullName}"], project.FullName));
    }

    [Fact]
    public void ExplicitContentRootHoldingAppsettingsIsKept()
    {
        File.WriteAllText(Path.Combine(_root.FullName, "appsettings.json"), "{}");

        Assert.Null(PortalContentRoot.Resolve(["--contentRoot", _root.FullName], AppContext.BaseDirectory));
    }

    public void Dispose() => _root.Delete(recursive: true);
}
