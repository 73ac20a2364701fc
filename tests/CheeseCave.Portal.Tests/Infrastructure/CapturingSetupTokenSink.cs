using CheeseCave.Portal.Accounts;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>Keeps the first-run setup links the portal would have logged.</summary>
public sealed class CapturingSetupTokenSink : ISetupTokenSink
{
    private readonly List<SetupLink> _links = [];

    public IReadOnlyList<SetupLink> Links
    {
        get
        {
            lock (_links)
            {
                return [.. _links];
            }
        }
    }

    public SetupLink Only => Assert.Single(Links);

    public void Publish(SetupLink link)
    {
        lock (_links)
        {
            _links.Add(link);
        }
    }
}
