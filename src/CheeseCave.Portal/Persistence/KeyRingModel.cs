using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>
/// The Data Protection key ring's table, used when <c>CheeseCave:KeyRing:Store</c> is <c>Database</c>
/// (<c>Hosting/KeyCustodyRegistration.cs</c>). One row per key: its id as the friendly name and the
/// key's XML, whose secret is encrypted with the key-ring certificate when one is configured.
/// </summary>
internal static class KeyRingModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<DataProtectionKey>(key =>
        {
            key.ToTable("DataProtectionKeys");
            key.HasKey(k => k.Id);
            key.Property(k => k.FriendlyName).HasMaxLength(100);
            key.HasIndex(k => k.FriendlyName);
        });
    }
}
