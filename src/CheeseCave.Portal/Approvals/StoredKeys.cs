using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Approvals;

/// <summary>Keys a request put into the protected key store before it was approved (an imported CA's), and their release.</summary>
public static partial class StoredKeys
{
    /// <summary>
    /// Deletes a stored key that no setup CA uses and no open (pending or approved) request still names (a request's
    /// key that was never applied); true when one was deleted.
    /// </summary>
    public static async Task<bool> DeleteUnusedAsync(IDbContextFactory<PortalDbContext> contexts, string keyId)
    {
        // Not cancellable: a key left behind is worse than a slow page.
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None).ConfigureAwait(false);
        if (await db.SetupCertificates.AnyAsync(c => c.KeyId == keyId, CancellationToken.None).ConfigureAwait(false))
        {
            return false;
        }

        // A request recorded with the key (even if its caller gave up right after) must still find it when approved.
        var open = await db.ApprovalRequests.AsNoTracking()
            .Where(r => r.Status == ApprovalStatus.Pending || r.Status == ApprovalStatus.Approved)
            .Select(r => r.PayloadJson).ToListAsync(CancellationToken.None).ConfigureAwait(false);
        if (open.Any(json => StoredKeyOf(json) == keyId))
        {
            return false;
        }

        return await db.ProtectedKeys.Where(k => k.KeyId == keyId).ExecuteDeleteAsync(CancellationToken.None).ConfigureAwait(false) > 0;
    }

    /// <summary>
    /// Cleanup when a request ends without being applied (rejected, cancelled, expired, failed, or interrupted by a
    /// restart): a key its payload put into the protected key store in advance (an imported CA's) is deleted, unless a
    /// CA of a setup uses it. Audited.
    /// </summary>
    public static async Task ReleaseAsync(IDbContextFactory<PortalDbContext> contexts, AuditLog audit, ILogger logger, ApprovalRequest request)
    {
        string? keyId;
        try
        {
            keyId = ApprovalPayload.FromJson(request.PayloadJson).StoredKeyId;
        }
        catch (System.Text.Json.JsonException ex)
        {
            ReleaseFailed(logger, ex, request.Id);
            return;
        }

        if (keyId is not null && await DeleteUnusedAsync(contexts, keyId).ConfigureAwait(false))
        {
            await audit.WriteAsync(Actor.System, ApprovalAuditActions.StoredKeyDeleted, keyId, AuditOutcomes.Succeeded, $"request #{request.Id} ended without being applied", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static string? StoredKeyOf(string payloadJson)
    {
        try
        {
            return ApprovalPayload.FromJson(payloadJson).StoredKeyId;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The payload of approval request {RequestId} could not be read to release its stored key.")]
    private static partial void ReleaseFailed(ILogger logger, Exception exception, int requestId);
}
