using Bunit;
using Microsoft.AspNetCore.Components;

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
