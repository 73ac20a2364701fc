using System.Security.Cryptography.X509Certificates;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>
/// Rows recorded before the inventory columns existed have an empty serial number, issuer and key type. At start they
/// are filled once from the certificate PEM each row already holds (the same reading as <see cref="CertificateFacts"/>);
/// rows that have them are never touched, so running it again changes nothing.
/// </summary>
public sealed partial class InventoryBackfill(IDbContextFactory<PortalDbContext> contexts, ILogger<InventoryBackfill> logger) : IHostedService
{
    private const int Batch = 500;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var (cas, devices) = await BackfillAsync(cancellationToken).ConfigureAwait(false);
        if (cas + devices > 0)
        {
            LogBackfilled(logger, cas, devices);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>How many CA and device rows got their facts.</summary>
    public async Task<(int Cas, int Devices)> BackfillAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var cas = await db.SetupCertificates.Where(c => c.SerialNumber == "" || c.Issuer == "" || c.KeyType == "").ToListAsync(cancellationToken).ConfigureAwait(false);
        var filledCas = 0;
        foreach (var ca in cas)
        {
            if (Read(ca.Pem) is { } certificate)
            {
                using (certificate)
                {
                    (ca.SerialNumber, ca.Issuer, ca.KeyType) = (certificate.SerialNumber, certificate.Issuer, CertificateFacts.KeyTypeOf(certificate));
                }

                filledCas++;
            }
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

        var filledDevices = 0;
        var afterId = 0;
        while (true)
        {
            // Keyset paging: rows that cannot be read keep their empty columns and must not be fetched again.
            var devices = await db.SetupDevices.Where(d => d.Id > afterId && (d.SerialNumber == "" || d.Issuer == "" || d.KeyType == ""))
                .OrderBy(d => d.Id).Take(Batch).ToListAsync(cancellationToken).ConfigureAwait(false);
            if (devices.Count == 0)
            {
                break;
            }

            foreach (var device in devices)
            {
                if (Read(device.CertificatePem) is { } certificate)
                {
                    using (certificate)
                    {
                        (device.SerialNumber, device.Issuer, device.KeyType) = (certificate.SerialNumber, certificate.Issuer, CertificateFacts.KeyTypeOf(certificate));
                    }

                    filledDevices++;
                }
            }

            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            db.ChangeTracker.Clear();
            afterId = devices[^1].Id;
        }

        return (filledCas, filledDevices);
    }

    private static X509Certificate2? Read(string pem)
    {
        try
        {
            return string.IsNullOrWhiteSpace(pem) ? null : X509Certificate2.CreateFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Certificate inventory: filled serial number, issuer and key type of {Cas} CA(s) and {Devices} device certificate(s) recorded before those columns existed")]
    private static partial void LogBackfilled(ILogger logger, int cas, int devices);
}
