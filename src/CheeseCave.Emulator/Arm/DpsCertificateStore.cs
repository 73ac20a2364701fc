using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// The rules of DPS CA certificates, applied against the store: at most 25 per DPS, names of 1 to 256 characters,
/// If-Match on every change of an existing certificate (checked inside the transaction, so two clients with the
/// same etag cannot both win), a new etag after every step, and proof of possession before a certificate is verified.
/// </summary>
internal static class DpsCertificateStore
{
    public const int MaxCertificatesPerService = 25;

    public const int MaxNameLength = 256;

    public static IEnumerable<DpsCertificateEntity> OfService(EmulatorContext ctx, ProvisioningServiceEntity dps) =>
        ctx.Store.DpsCertificates.All.Where(c => c.Dps.Equals(dps.Name, StringComparison.OrdinalIgnoreCase));

    public static DpsCertificateEntity Require(EmulatorContext ctx, ProvisioningServiceEntity dps, string name) =>
        ctx.Store.DpsCertificates.Get(ArmKeys.DpsCertificate(dps.Name, name))
        ?? throw ArmErrors.CertificateNotFound(name, dps.Name);

    public static void RequireValidName(string name)
    {
        if (name.Length > MaxNameLength || string.IsNullOrWhiteSpace(name))
        {
            throw ArmErrors.InvalidCertificateName(MaxNameLength, name.Length);
        }
    }

    /// <summary>Uploads or replaces a certificate. Creating ignores If-Match (docs/azure-wire.md §2); replacing needs it.</summary>
    public static Task<DpsCertificateEntity> PutAsync(
        EmulatorContext ctx, string subscriptionId, string resourceGroupName, string provisioningServiceName, string name, byte[] der, bool isVerified, string? ifMatch) =>
        ctx.Store.WriteAsync(tx =>
        {
            var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var key = ArmKeys.DpsCertificate(dps.Name, name);
            var existing = ctx.Store.DpsCertificates.Get(key);
            if (existing is null)
            {
                if (OfService(ctx, dps).Count() >= MaxCertificatesPerService)
                {
                    throw ArmErrors.CertificateLimitExceeded(dps.Name, MaxCertificatesPerService);
                }
            }
            else if (!IfMatch.IsPresent(ifMatch))
            {
                throw ArmErrors.CertificateExistsWithoutIfMatch(existing.Name);
            }
            else if (!IfMatch.Accepts(ifMatch, existing.Etag, required: true))
            {
                throw ArmErrors.CertificateEtagStale(existing.Name);
            }

            var now = ctx.Time.GetUtcNow();
            var updated = new DpsCertificateEntity(dps.Name, existing?.Name ?? name, der, isVerified, null, EmulatorContext.NewEtag(), existing?.Created ?? now, now);
            tx.Put(ctx.Store.DpsCertificates, key, updated);
            return updated;
        });

    /// <summary>Needs If-Match (400 without, 412 when stale); false when the certificate is already gone.</summary>
    public static Task<bool> DeleteAsync(EmulatorContext ctx, ProvisioningServiceEntity dps, string name, string? ifMatch)
    {
        if (!IfMatch.IsPresent(ifMatch))
        {
            throw ArmErrors.MissingIfMatchHeader("Deleting a certificate", name);
        }

        var key = ArmKeys.DpsCertificate(dps.Name, name);
        return ctx.Store.WriteAsync(tx =>
        {
            var existing = ctx.Store.DpsCertificates.Get(key);
            if (existing is null) return false;
            IfMatch.CheckRequired(ifMatch, existing.Etag, "Deleting a certificate", existing.Name);
            tx.Delete(ctx.Store.DpsCertificates, key);
            return true;
        });
    }

    /// <summary>Issues a new verification code (48 upper-case hex digits, as DPS issues them), replacing any earlier one.</summary>
    public static Task<(DpsCertificateEntity Certificate, string Code)> GenerateVerificationCodeAsync(EmulatorContext ctx, ProvisioningServiceEntity dps, string name, string? ifMatch)
    {
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        return ctx.Store.WriteAsync(tx =>
        {
            var existing = Require(ctx, dps, name);
            IfMatch.CheckRequired(ifMatch, existing.Etag, "generateVerificationCode", existing.Name);
            var updated = existing with { VerificationCode = code, Etag = EmulatorContext.NewEtag(), Updated = ctx.Time.GetUtcNow() };
            tx.Put(ctx.Store.DpsCertificates, ArmKeys.DpsCertificate(dps.Name, existing.Name), updated);
            return (updated, code);
        });
    }

    /// <summary>Marks the certificate verified once <paramref name="verificationCertificate"/> proves possession of its key; the code is used up.</summary>
    public static Task<DpsCertificateEntity> VerifyAsync(EmulatorContext ctx, ProvisioningServiceEntity dps, string name, string? verificationCertificate, string? ifMatch) =>
        ctx.Store.WriteAsync(tx =>
        {
            var existing = Require(ctx, dps, name);
            IfMatch.CheckRequired(ifMatch, existing.Etag, "verify", existing.Name);
            var code = ProofOfPossession.RequireCode(existing.Name, existing.VerificationCode);
            using var verification = CertificateUpload.Decode(verificationCertificate, "certificate");
            using var ca = X509CertificateLoader.LoadCertificate(existing.Der);
            var now = ctx.Time.GetUtcNow();
            ProofOfPossession.Check(code, verification, ca, now);
            var updated = existing with { IsVerified = true, VerificationCode = null, Etag = EmulatorContext.NewEtag(), Updated = now };
            tx.Put(ctx.Store.DpsCertificates, ArmKeys.DpsCertificate(dps.Name, existing.Name), updated);
            return updated;
        });
}
