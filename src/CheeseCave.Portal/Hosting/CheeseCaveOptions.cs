namespace CheeseCave.Portal.Hosting;

/// <summary>The <c>CheeseCave</c> configuration section.</summary>
public sealed class CheeseCaveOptions
{
    public const string SectionName = "CheeseCave";

    /// <summary>Where the portal keeps its data (relative paths are resolved against the content root).</summary>
    public string DataDirectory { get; set; } = "data";
}
