using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>The expiry watch's table, called from <see cref="PortalDbContext.OnModelCreating"/>.</summary>
internal static class ExpiryModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<ExpiryNotification>(notification =>
        {
            notification.ToTable("ExpiryNotifications");
            notification.HasKey(n => n.Id);
            notification.Property(n => n.CertificateKind).HasConversion<string>().HasMaxLength(16);
            notification.Property(n => n.Threshold).HasMaxLength(16);
            notification.Property(n => n.Channel).HasMaxLength(16);
            notification.Property(n => n.State).HasConversion<string>().HasMaxLength(16);
            notification.Property(n => n.Error).HasMaxLength(500);

            // Sent once per certificate, threshold and channel: the database refuses a second claim.
            notification.HasIndex(n => new { n.CertificateKind, n.CertificateId, n.Threshold, n.Channel }).IsUnique();
        });
    }
}
