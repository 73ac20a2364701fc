using System.Text.Json;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>What Chromium itself exposes to assistive technology, read through the DevTools protocol.</summary>
public static class AccessibilityTree
{
    /// <summary>
    /// The value Chromium's accessibility tree gives the one combobox named <paramref name="name"/> (null when it has
    /// none); fails unless exactly one such combobox is exposed.
    /// </summary>
    public static async Task<string?> ComboboxValueAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        var cdp = await page.Context.NewCDPSessionAsync(page);
        try
        {
            var tree = await cdp.SendAsync("Accessibility.getFullAXTree");
            Assert.True(tree.HasValue, "Chromium returned no accessibility tree");
            var matches = tree.Value.GetProperty("nodes").EnumerateArray()
                .Where(n => !(n.TryGetProperty("ignored", out var ignored) && ignored.GetBoolean()))
                .Where(n => Text(n, "role") == "combobox" && Text(n, "name") == name)
                .ToList();
            Assert.True(matches.Count == 1, $"expected one combobox named '{name}' in the accessibility tree, found {matches.Count}");
            return Text(matches[0], "value");
        }
        finally
        {
            await cdp.DetachAsync();
        }
    }

    private static string? Text(JsonElement node, string property) =>
        node.TryGetProperty(property, out var value) && value.TryGetProperty("value", out var inner) && inner.ValueKind == JsonValueKind.String
            ? inner.GetString()
            : null;
}
