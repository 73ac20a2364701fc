using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>The approval tables, called from <see cref="Persistence.PortalDbContext.OnModelCreating"/>.</summary>
internal static class ApprovalModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<ApprovalRequest>(request =>
        {
            request.ToTable("ApprovalRequests");
            request.HasKey(r => r.Id);
            request.Property(r => r.Action).HasConversion<string>().HasMaxLength(32);
            request.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            request.Property(r => r.Title).HasMaxLength(300);
            request.Property(r => r.RequestedById).HasMaxLength(450);
            request.Property(r => r.RequestedBy).HasMaxLength(256);
            request.Property(r => r.AppliedBy).HasMaxLength(256);
            request.Property(r => r.Error).HasMaxLength(1000);
            request.Property(r => r.ApplyingInstance).HasMaxLength(64);
            request.HasMany(r => r.Decisions).WithOne().HasForeignKey(d => d.RequestId).OnDelete(DeleteBehavior.Cascade);
            request.HasIndex(r => new { r.Status, r.ExpiresAt });
            request.HasIndex(r => new { r.SetupId, r.Action });
            request.HasIndex(r => r.RequestedById);
        });

        builder.Entity<ApprovalDecision>(decision =>
        {
            decision.ToTable("ApprovalDecisions");
            decision.HasKey(d => d.Id);
            decision.Property(d => d.ApproverId).HasMaxLength(450);
            decision.Property(d => d.Approver).HasMaxLength(256);
            decision.Property(d => d.Comment).HasMaxLength(1000);

            // Nobody counts twice: the database refuses a second decision by the same approver on a request.
            decision.HasIndex(d => new { d.RequestId, d.ApproverId }).IsUnique();
        });
    }
}
