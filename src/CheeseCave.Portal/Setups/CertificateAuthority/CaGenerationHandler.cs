using System.Security.Claims;
using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Hosting.Telemetry;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>
/// Step 5: generates a root CA (and optionally an intermediate signed by it) in-process. Keys go straight into the
/// protected key store; only certificates (public) are stored with the setup.
/// </summary>
public sealed class CaGenerationHandler(SetupPipeline pipeline, IKeyStore keys)
{
    public Task<PortalResult<SetupCertificateView>> GenerateCaAsync(ClaimsPrincipal caller, int setupId, string rootSubject, string? intermediateSubject, ProfilePreset preset, CancellationToken cancellationToken = default) =>
        GenerateAsync(caller, setupId, new CreateCaPayload(rootSubject, intermediateSubject, preset), null, cancellationToken);

    /// <summary>The change itself: run at once, recorded as a request (approvals on), or applied once approved (<paramref name="grant"/>).</summary>
    internal Task<PortalResult<SetupCertificateView>> GenerateAsync(ClaimsPrincipal caller, int setupId, CreateCaPayload payload, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var (rootSubject, intermediateSubject, preset) = (payload.RootSubject, payload.IntermediateSubject, payload.Preset);
        var detail = $"{preset}: root \"{rootSubject}\"" + (string.IsNullOrWhiteSpace(intermediateSubject) ? "" : $", intermediate \"{intermediateSubject}\"");
        return pipeline.RunAsync(new SetupChange<SetupCertificateView>(caller, setupId, AuditActions.SetupCaGenerated, "generate a CA", detail, async (setup, _, db) =>
        {
            if (setup.RootCertificateId is not null)
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("This setup already has a CA.", "Use it, or create a new setup for another CA."));
            }

            if (string.IsNullOrWhiteSpace(rootSubject))
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("The root CA needs a name.", "Enter a common name such as \"Contoso Cave Root CA\"."));
            }

            var authority = new Pki.CertificateAuthority(pipeline.Time);
            var actor = Actor.From(caller);
            IssuedCertificate root;
            try
            {
                root = authority.CreateRoot(new RootCaRequest(rootSubject.Trim()) { Preset = preset });
            }
            catch (PkiException ex)
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError(ex.Message, "Correct the name and try again."));
            }

            using (root)
            {
                var rootEntity = await StoreAsync(db, setup, SetupCertificateKind.Root, root, actor, grant, cancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrWhiteSpace(intermediateSubject))
                {
                    using var credential = root.ToCaCredential();
                    IssuedCertificate intermediate;
                    try
                    {
                        intermediate = authority.CreateIntermediate(new IntermediateCaRequest(intermediateSubject.Trim()) { Preset = preset }, credential);
                    }
                    catch (PkiException ex)
                    {
                        return PortalResult.Fail<SetupCertificateView>(new PortalError(ex.Message, "Choose another name for the intermediate CA."));
                    }

                    using (intermediate)
                    {
                        await StoreAsync(db, setup, SetupCertificateKind.Intermediate, intermediate, actor, grant, cancellationToken).ConfigureAwait(false);
                    }
                }

                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                setup.RootCertificateId = rootEntity.Id;
                setup.CurrentStep = Math.Max(setup.CurrentStep, 6);
                return PortalResult.Ok(SetupCertificates.ToView(rootEntity));
            }
        }) { Request = payload, Grant = grant }, cancellationToken);
    }

    private async Task<SetupCertificate> StoreAsync(PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, IssuedCertificate issued, Actor actor, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var keyId = $"setup-{setup.Id}/{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}";
        await keys.SaveAsync(keyId, issued.Key!, cancellationToken).ConfigureAwait(false);
        var certificate = issued.Certificate;
        var entity = new SetupCertificate
        {
            SetupId = setup.Id,
            Kind = kind,
            KeyId = keyId,
            CreatedBy = grant?.RequestedBy ?? actor.Name,
            CreatedAt = pipeline.Time.GetUtcNow(),
            ApprovedBy = CertificateFacts.ApproversOf(grant),
        };
        CertificateFacts.Fill(entity, issued.Certificate);
        db.SetupCertificates.Add(entity);
        PortalMetrics.CertificatesIssued(kind.ToString().ToLowerInvariant(), "Generated");
        return entity;
    }
}
