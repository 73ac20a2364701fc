using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>The CA rollover table, called from <see cref="PortalDbContext.OnModelCreating"/>.</summary>
internal static class RolloverModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<CaRollover>(rollover =>
        {
            rollover.ToTable("CaRollovers");
            rollover.HasKey(r => r.Id);
            rollover.Property(r => r.Stage).HasConversion<string>().HasMaxLength(16);
            rollover.Property(r => r.GroupMode).HasConversion<string>().HasMaxLength(16);
            rollover.Property(r => r.StartedBy).HasMaxLength(256);
            rollover.Property(r => r.FinishedBy).HasMaxLength(256);
            rollover.Property(r => r.OldGroupId).HasMaxLength(128);
            rollover.Property(r => r.NewGroupId).HasMaxLength(128);
            rollover.Property(r => r.RunningStep).HasMaxLength(32);
            rollover.Property(r => r.RunningInstance).HasMaxLength(64);
            rollover.Property(r => r.CancelledBy).HasMaxLength(256);
            rollover.HasOne<DpsSetup>().WithMany().HasForeignKey(r => r.SetupId).OnDelete(DeleteBehavior.Cascade);

            // "Started twice" is refused by the handler; the database refuses it too when two requests race.
            rollover.HasIndex(r => r.SetupId).IsUnique().HasFilter("\"FinishedAt\" IS NULL").HasDatabaseName("IX_CaRollovers_OpenPerSetup");
        });

        builder.Entity<RolloverBatch>(batch =>
        {
            batch.ToTable("RolloverBatches");
            batch.HasKey(b => b.Id);
            batch.Property(b => b.BatchId).HasMaxLength(64);
            batch.Property(b => b.ReplacedByBatchId).HasMaxLength(64);
            batch.HasOne<CaRollover>().WithMany().HasForeignKey(b => b.RolloverId).OnDelete(DeleteBehavior.Cascade);
            batch.HasIndex(b => b.BatchId).IsUnique();
        });
    }
}
