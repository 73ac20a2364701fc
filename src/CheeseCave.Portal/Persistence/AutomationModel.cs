using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>The automation tables (API tokens, issuance grants), called from <see cref="PortalDbContext"/>.</summary>
internal static class AutomationModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<ApiToken>(token =>
        {
            token.ToTable("ApiTokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.UserId).HasMaxLength(450);
            token.Property(t => t.UserName).HasMaxLength(256);
            token.Property(t => t.Name).HasMaxLength(100);
            token.Property(t => t.Prefix).HasMaxLength(16);
            token.Property(t => t.SecretHash).HasMaxLength(32);
            token.Property(t => t.Scopes).HasMaxLength(64);
            token.Property(t => t.RevokedBy).HasMaxLength(256);
            token.HasIndex(t => t.SecretHash).IsUnique();
            token.HasIndex(t => t.UserId);
            token.HasOne<PortalUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<IssuanceGrant>(grant =>
        {
            grant.ToTable("IssuanceGrants");
            grant.HasKey(g => g.Id);
            grant.HasOne<DpsSetup>().WithMany().HasForeignKey(g => g.SetupId).OnDelete(DeleteBehavior.Cascade);
            grant.Property(g => g.Name).HasMaxLength(100);
            grant.Property(g => g.Pattern).HasMaxLength(64);
            grant.Property(g => g.RequestedById).HasMaxLength(450);
            grant.Property(g => g.RequestedBy).HasMaxLength(256);
            grant.Property(g => g.ApprovedBy).HasMaxLength(512);
            grant.Property(g => g.RevokedBy).HasMaxLength(256);
            grant.HasIndex(g => g.SetupId);
        });
    }
}
