namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>The <c>CheeseCave:Inventory</c> section: how the certificate list asks DPS where devices are.</summary>
public sealed class InventoryOptions
{
    public const string SectionName = "CheeseCave:Inventory";

    /// <summary>How long one page waits for DPS before showing "DPS not reachable" instead.</summary>
    public TimeSpan DpsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Registration records read at the same time (per page).</summary>
    public int DpsConcurrency { get; set; } = 4;

    internal IEnumerable<string> Problems()
    {
        if (DpsTimeout < TimeSpan.FromMilliseconds(100) || DpsTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"{SectionName}:DpsTimeout is {DpsTimeout}; use between 00:00:00.1 and 00:01:00, e.g. 00:00:05.";
        }

        if (DpsConcurrency is < 1 or > 32)
        {
            yield return $"{SectionName}:DpsConcurrency is {DpsConcurrency}; use 1 to 32.";
        }
    }
}
