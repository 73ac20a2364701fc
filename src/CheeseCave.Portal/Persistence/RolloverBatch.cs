namespace CheeseCave.Portal.Persistence;

/// <summary>
/// One batch of device certificates a rollover re-issued, and what became of its keys. The keys live only in memory
/// for the download window; this row says whether they ever got there (<see cref="KeysKeptUntil"/> is written with the
/// step's final save) and whether a restart took them (<see cref="KeysLostAt"/>), so keyless certificates are never
/// silent.
/// </summary>
public sealed class RolloverBatch
{
    public int Id { get; set; }

    public int RolloverId { get; set; }

    /// <summary>The <see cref="SetupDevice.BatchId"/> of its certificates.</summary>
    public string BatchId { get; set; } = "";

    public int DeviceCount { get; set; }

    public DateTimeOffset SignedAt { get; set; }

    /// <summary>When the keys' download window ends; null while (or if never) they were handed out.</summary>
    public DateTimeOffset? KeysKeptUntil { get; set; }

    /// <summary>Set at start-up when the keys should still have been in memory (or never got there): a restart took them.</summary>
    public DateTimeOffset? KeysLostAt { get; set; }

    /// <summary>The batch that re-issued these devices again after their keys were lost.</summary>
    public string? ReplacedByBatchId { get; set; }
}
