using System.Diagnostics.Metrics;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Telemetry;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Hosting.Telemetry;

/// <summary>
/// <c>cheesecave.approvals.pending</c>: the approval requests waiting for a decision, read from the database each time
/// the metrics are collected (one indexed count, once per export interval), so every instance reports the same truth.
/// Registered only when telemetry is on.
/// </summary>
public sealed class PendingApprovalsGauge : IDisposable
{
    private readonly Meter _meter;

    public PendingApprovalsGauge(IMeterFactory meters, IDbContextFactory<PortalDbContext> contexts)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(contexts);
        _meter = meters.Create(PortalMetrics.MeterName);
        _meter.CreateObservableGauge("cheesecave.approvals.pending", () => Count(contexts), "{request}", "Approval requests waiting for a decision.");
    }

    public void Dispose() => _meter.Dispose();

    private static int Count(IDbContextFactory<PortalDbContext> contexts)
    {
        // The collection callback is synchronous by design of System.Diagnostics.Metrics.
        using var db = contexts.CreateDbContext();
        return db.ApprovalRequests.Count(r => r.Status == ApprovalStatus.Pending);
    }
}
