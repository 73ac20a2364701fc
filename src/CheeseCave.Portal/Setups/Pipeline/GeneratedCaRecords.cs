using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>
/// Records a CA the portal has just generated (step 5, or a rollover's new generation): its key into the protected
/// key store under a new id, its certificate with the inventory facts and who asked and approved. One place, so both
/// paths store the same thing.
/// </summary>
internal static class GeneratedCaRecords
{
    public static async Task<SetupCertificate> StoreAsync(
        IKeyStore keys, TimeProvider time, PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, IssuedCertificate issued, Actor actor, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var keyId = $"setup-{setup.Id}/{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}";
        await keys.SaveAsync(keyId, issued.Key ?? throw new InvalidOperationException("A generated CA has its key."), cancellationToken).ConfigureAwait(false);
        var entity = new SetupCertificate
        {
            SetupId = setup.Id,
            Kind = kind,
            KeyId = keyId,
            CreatedBy = grant?.RequestedBy ?? actor.Name,
            CreatedAt = time.GetUtcNow(),
            ApprovedBy = CertificateFacts.ApproversOf(grant),
        };
        CertificateFacts.Fill(entity, issued.Certificate);
        db.SetupCertificates.Add(entity);
        PortalMetrics.CertificatesIssued(kind.ToString().ToLowerInvariant(), "Generated");
        return entity;
    }
}
