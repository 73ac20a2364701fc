using System.Text;
using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>Every markup a component had, from the first render on.</summary>
internal sealed class MarkupLog
{
    private readonly List<string> _markups = [];

    public void Add(string markup)
    {
        lock (_markups)
        {
            _markups.Add(markup);
        }
    }

    public IReadOnlyList<string> All
    {
        get
        {
            lock (_markups)
            {
                return [.. _markups];
            }
        }
    }

    public static MarkupLog Of<T>(IRenderedComponent<T> cut)
        where T : IComponent
    {
        var log = new MarkupLog();
        log.Add(cut.Markup);
        cut.OnMarkupUpdated += (_, _) => log.Add(cut.Markup);
        return log;
    }

    /// <summary>No PEM private-key block, and not a line of this key's base64 body, in any markup.</summary>
    public void AssertNoKeyMaterial(params string[] keyPems)
    {
        foreach (var markup in All)
        {
            Assert.DoesNotContain("PRIVATE KEY", markup, StringComparison.Ordinal);
            foreach (var pem in keyPems)
            {
                foreach (var line in pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length >= 40 && !l.StartsWith("-----", StringComparison.Ordinal)))
                {
                    Assert.DoesNotContain(line, markup, StringComparison.Ordinal);
                }
            }
        }
    }
}
