using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>
/// What step 7 knows about the uploaded root CA: as stored, as the DPS reports it now, and the verification code and
/// certificate remembered for it (<see cref="SetupProofStore"/>).
/// </summary>
public sealed class ProofState(SetupProofStore proofs, TimeProvider time)
{
    public SetupProofStore Proofs => proofs;

    /// <summary>Keeps the verification certificate DPS accepted, so it can be downloaded later.</summary>
    /// <param name="code">The code a one-click proof got from DPS (a manual proof's code is already recorded).</param>
    public Task<ProofRecord> RememberVerificationAsync(int setupId, int certificateId, X509Certificate2 verification, string? code, string? by, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return proofs.UpdateAsync(setupId, certificateId, previous =>
        {
            var record = (previous ?? new ProofRecord(null, null, null, null, null, null, null)) with
            {
                VerificationPem = CertificateExport.ToPem(verification),
                VerifiedAt = now,
            };
            return code is null ? record : record with { Code = code, CodeGeneratedAt = now, CodeGeneratedBy = by };
        }, cancellationToken);
    }

    /// <summary>The setup's root as stored (tracked) and as the DPS reports it now, or what is missing.</summary>
    public static async Task<(SetupCertificate? Root, DpsCertificateInfo? Live, PortalError? Error)> ReadUploadedAsync(DpsSetup setup, ArmProvisioningClient arm, PortalDbContext db, CancellationToken cancellationToken)
    {
        if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
        {
            return (null, null, new PortalError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
        }

        var root = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == setup.RootCertificateId, cancellationToken).ConfigureAwait(false);
        if (root?.DpsCertificateName is not { } name)
        {
            return (root, null, new PortalError("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first."));
        }

        var live = await arm.GetCertificateAsync(group, dpsName, name, cancellationToken).ConfigureAwait(false);
        return live is null
            ? (root, null, new PortalError($"The certificate '{name}' is no longer on the DPS '{dpsName}'.", "Upload the CA again in step 6."))
            : (root, live, null);
    }

    public async Task<ProofView> ViewAsync(DpsSetup setup, SetupCertificate root, DpsCertificateInfo live, CancellationToken cancellationToken)
    {
        var record = await proofs.ReadAsync(setup.Id, root.Id, cancellationToken).ConfigureAwait(false);
        var state = live.IsVerified || record?.Code is null ? VerificationCodeState.None
            : record.DpsEtag == live.ETag ? VerificationCodeState.Current
            : VerificationCodeState.Replaced;
        var code = state == VerificationCodeState.Current ? record!.Code : null;
        return new ProofView(root.Id, live.Name, live.IsVerified, root.KeyId is not null, state, code,
            code is null ? null : record!.CodeGeneratedAt, code is null ? null : record!.CodeGeneratedBy,
            code is null ? null : VerificationCommands.For(code, SetupCertificates.FileNameFor(root) + ".pem"),
            record?.VerificationPem is not null,
            live.IsVerified ? record?.Code : null);
    }
}
