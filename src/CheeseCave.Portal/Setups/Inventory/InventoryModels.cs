using System.Globalization;

namespace CheeseCave.Portal.Setups.Inventory;

public enum InventoryKind
{
    Ca,
    Device,
}

/// <summary>How the certificate came to be, in the inventory's words.</summary>
public enum CertificateSource
{
    /// <summary>A CA the portal generated (it holds the key).</summary>
    Generated,

    /// <summary>A CA someone imported, with or without its key.</summary>
    Imported,

    /// <summary>A device certificate whose key the portal made and handed out once.</summary>
    PortalKey,

    /// <summary>A device certificate signed from the device's CSR: the key never left the device.</summary>
    DeviceCsr,
}

public enum InventorySort
{
    NotAfter,
    Name,
    Setup,
    Issued,
    Status,
    Serial,
}

/// <summary>What to list. Every field is optional; set fields are combined with AND.</summary>
public sealed record InventoryFilter
{
    /// <summary>Part of a registration id or subject, or of a SHA-1/SHA-256 thumbprint or serial (colons and spaces ignored).</summary>
    public string? Text { get; init; }

    public int? SetupId { get; init; }

    public InventoryKind? Kind { get; init; }

    public CertificateStatus? Status { get; init; }

    /// <summary>Still valid, and ends within this many days.</summary>
    public int? ExpiringWithinDays { get; init; }

    public static InventoryFilter None { get; } = new();

    public const int MaxExpiringWithinDays = 3650;

    /// <summary>A short, non-secret description for the audit entry of an export.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(Text))
        {
            parts.Add($"text={Text.Trim()}");
        }

        if (SetupId is { } setup)
        {
            parts.Add($"setup={setup.ToString(CultureInfo.InvariantCulture)}");
        }

        if (Kind is { } kind)
        {
            parts.Add($"kind={kind}");
        }

        if (Status is { } status)
        {
            parts.Add($"status={status}");
        }

        if (ExpiringWithinDays is { } days)
        {
            parts.Add($"expiring within {days.ToString(CultureInfo.InvariantCulture)} days");
        }

        return parts.Count == 0 ? "all certificates" : string.Join(", ", parts);
    }
}

/// <summary>One page of the inventory: where it starts, how many, in which order, and whether to ask DPS where the devices are.</summary>
public sealed record InventoryQuery(InventoryFilter Filter, int Skip = 0, int Take = 25, InventorySort Sort = InventorySort.NotAfter, bool Descending = false, bool IncludeDps = true)
{
    public const int MaxTake = 200;
}

/// <summary>One certificate as the inventory shows it (public facts only).</summary>
public sealed record InventoryRow(
    InventoryKind Kind,
    int Id,
    int SetupId,
    string SetupName,
    string Name,
    string Subject,
    string? CaRole,
    string SerialNumber,
    string ThumbprintSha1,
    string ThumbprintSha256,
    string Issuer,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string KeyType,
    string RequestedBy,
    string? ApprovedBy,
    CertificateSource Source,
    CertificateStatus Status,
    DateTimeOffset IssuedAt,
    string? StatusNote)
{
    /// <summary>Where the device is now, read live from DPS for the rows on the page; null for CAs or when DPS was not asked or not reachable.</summary>
    public DpsPlacement? Placement { get; init; }

    /// <summary>The certificate's detail page.</summary>
    public string DetailPath => Kind == InventoryKind.Ca
        ? $"certificates/cas/{Id.ToString(CultureInfo.InvariantCulture)}"
        : $"certificates/devices/{Id.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Whole days from <paramref name="now"/> to the end of validity (negative once expired).</summary>
    public int DaysLeft(DateTimeOffset now) => (int)Math.Floor((NotAfter - now).TotalDays);
}

/// <summary>A device's registration record in DPS: where it was assigned, when, and what happened (or that it never registered).</summary>
public sealed record DpsPlacement(bool Registered, string? Status, string? AssignedHub, DateTimeOffset? LastRegisteredAt, string? Substatus, string? Error)
{
    public static DpsPlacement NotRegistered { get; } = new(false, null, null, null, null, null);
}

/// <summary>One page of matches, how many match in all, and why DPS could not be asked for some setups (one sentence each).</summary>
public sealed record InventoryPage(IReadOnlyList<InventoryRow> Items, int TotalCount, IReadOnlyList<string> DpsProblems);
