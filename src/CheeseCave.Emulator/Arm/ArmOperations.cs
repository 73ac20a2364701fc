using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace CheeseCave.Emulator.Arm;

/// <summary>What a long-running operation does to its resource; it decides how the resource reads while it runs.</summary>
internal enum ArmOperationKind
{
    Create,
    Update,
    Delete,
}

/// <summary>One long-running operation: which resource (store key), what, and when it is done.</summary>
internal sealed record ArmOperation(string Id, string ResourceKey, ArmOperationKind Kind, DateTimeOffset CompletesAt);

/// <summary>
/// The long-running operations ARM reports on (docs/azure-wire.md §1.5). The store change is made when the request
/// arrives; the operation only decides what the status URL says and how the resource reads until it completes:
/// "instant" completes at once (the first poll says Succeeded), "azure-like" after 2 to 4 seconds of the emulator's
/// clock. Kept in memory: after a restart, any well-formed id reads as Succeeded (everything it did is already stored).
/// </summary>
internal sealed class ArmOperations(TimeProvider time, bool azureLike)
{
    private readonly ConcurrentDictionary<string, ArmOperation> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ArmOperation> _byResource = new(StringComparer.OrdinalIgnoreCase);

    public ArmOperation Start(string resourceKey, ArmOperationKind kind)
    {
        var now = time.GetUtcNow();
        var duration = azureLike ? TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(2000, 4001)) : TimeSpan.Zero;
        var operation = new ArmOperation(NewId(), resourceKey, kind, now + duration);
        _operations[operation.Id] = operation;
        _byResource[resourceKey] = operation;
        PruneFinished(now);
        return operation;
    }

    /// <summary>"Running" or "Succeeded"; null for an id this emulator never issued.</summary>
    public string? StatusOf(string operationId)
    {
        if (_operations.TryGetValue(operationId, out var operation))
        {
            return IsDone(operation) ? "Succeeded" : "Running";
        }

        return IsWellFormed(operationId) ? "Succeeded" : null;
    }

    /// <summary>The unfinished operation on this resource, if any.</summary>
    public ArmOperation? Pending(string resourceKey) =>
        _byResource.TryGetValue(resourceKey, out var operation) && !IsDone(operation) ? operation : null;

    private bool IsDone(ArmOperation operation) => time.GetUtcNow() >= operation.CompletesAt;

    /// <summary>Finished operations stay answerable for an hour (clients poll late), then go.</summary>
    private void PruneFinished(DateTimeOffset now)
    {
        foreach (var (id, operation) in _operations)
        {
            if (operation.CompletesAt < now - TimeSpan.FromHours(1)) _operations.TryRemove(id, out _);
        }
    }

    /// <summary>Operation ids look like Azure's: base64 of a GUID's text (URL-safe alphabet, as they sit in a path).</summary>
    public static string NewId() => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(Guid.NewGuid().ToString()));

    /// <summary>An id this emulator could have issued (also before a restart, and the standard-alphabet ids of older versions).</summary>
    public static bool IsWellFormed(string operationId)
    {
        ArgumentNullException.ThrowIfNull(operationId);
        if (Base64Url.IsValid(operationId) && Guid.TryParse(Encoding.ASCII.GetString(Base64Url.DecodeFromChars(operationId)), out _)) return true;
        try
        {
            return Guid.TryParse(Encoding.ASCII.GetString(Convert.FromBase64String(operationId)), out _);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
