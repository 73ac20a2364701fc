using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>One running (or stopped) portal process: its heartbeat tells the others it is alive.</summary>
public sealed class PortalInstanceRecord
{
    public string Id { get; set; } = "";

    public string Machine { get; set; } = "";

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset HeartbeatAt { get; set; }

    /// <summary>Set by a clean shutdown; a killed process leaves it empty and its heartbeat goes stale.</summary>
    public DateTimeOffset? StoppedAt { get; set; }
}

/// <summary>
/// A long wizard operation (create a DPS, a hub, proof of possession, a device batch) as every instance sees it: one
/// row per setup and kind, claimed by the instance that runs it. The success value (a batch's PFX password) is never
/// here: it stays in the memory of the instance that ran it, for the user who started it.
/// </summary>
public sealed class SetupOperationRecord
{
    public int SetupId { get; set; }

    public string Kind { get; set; } = "";

    public string Subject { get; set; } = "";

    public string StartedBy { get; set; } = "";

    public string? StartedById { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public string? Progress { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>The PortalError as JSON when it failed or was interrupted.</summary>
    public string? ErrorJson { get; set; }

    /// <summary>The ApprovalTicket as JSON when it ended by asking for approval.</summary>
    public string? PendingJson { get; set; }

    public string InstanceId { get; set; } = "";
}

/// <summary>A fixed-window counter shared by every instance (sign-in and onboarding form posts).</summary>
public sealed class RateLimitCounter
{
    /// <summary>The partition, e.g. "login|203.0.113.9|ADA".</summary>
    public string Key { get; set; } = "";

    public int Count { get; set; }

    /// <summary>When the window ends: the row can be removed after that.</summary>
    public DateTimeOffset WindowEndsAt { get; set; }
}

/// <summary>A named lease: the instance holding it runs a job the cluster must run once (the expiry check).</summary>
public sealed class ClusterLease
{
    public string Name { get; set; } = "";

    public string Holder { get; set; } = "";

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The tables that let several instances share one database, called from <see cref="PortalDbContext.OnModelCreating"/>.</summary>
internal static class ClusterModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<PortalInstanceRecord>(instance =>
        {
            instance.ToTable("PortalInstances");
            instance.HasKey(i => i.Id);
            instance.Property(i => i.Id).HasMaxLength(64);
            instance.Property(i => i.Machine).HasMaxLength(256);
        });

        builder.Entity<SetupOperationRecord>(operation =>
        {
            operation.ToTable("SetupOperations");
            operation.HasKey(o => new { o.SetupId, o.Kind });
            operation.Property(o => o.Kind).HasMaxLength(32);
            operation.Property(o => o.Subject).HasMaxLength(256);
            operation.Property(o => o.StartedBy).HasMaxLength(256);
            operation.Property(o => o.StartedById).HasMaxLength(450);
            operation.Property(o => o.Progress).HasMaxLength(512);
            operation.Property(o => o.ErrorJson).HasMaxLength(4000);
            operation.Property(o => o.PendingJson).HasMaxLength(1000);
            operation.Property(o => o.InstanceId).HasMaxLength(64);
        });

        builder.Entity<RateLimitCounter>(counter =>
        {
            counter.ToTable("RateLimitCounters");
            counter.HasKey(c => c.Key);
            counter.Property(c => c.Key).HasMaxLength(200);
            counter.HasIndex(c => c.WindowEndsAt);
        });

        builder.Entity<ClusterLease>(lease =>
        {
            lease.ToTable("ClusterLeases");
            lease.HasKey(l => l.Name);
            lease.Property(l => l.Name).HasMaxLength(64);
            lease.Property(l => l.Holder).HasMaxLength(64);
        });
    }
}
