using System.Security.Claims;
using System.Text;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.KeyExport;

[ApprovalPayloadKind("export-private-key")]
public sealed record ExportPrivateKeyPayload(int CertificateId, string ThumbprintSha1) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.ExportPrivateKey;

    public override bool OnePendingPerSetup => false;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var certificate = setup.Certificates.FirstOrDefault(c => c.Id == this.CertificateId);
        if (certificate is null)
        {
            return SetupRequestPlan.Refuse("This certificate is not one of the setup's CAs.", "Pick a CA of this setup.");
        }

        if (certificate.KeyId is null)
        {
            return SetupRequestPlan.Refuse("The portal does not hold this CA's private key, so there is nothing to this.", "Export it where the key is kept.");
        }

        SetupCertificates.AddFacts(facts, certificate);
        facts.Add(new("Format", "Encrypted PKCS#8 PEM (AES-256-CBC, PBKDF2-SHA256)"));
        facts.Add(new("Passphrase", "Generated; shown once, to the requester only"));
        facts.Add(new("Download", "Once, by the requester, within 15 minutes after it is approved"));
        facts.Add(new("Risk", "Whoever holds this key and passphrase can issue certificates DPS trusts"));
        return SetupRequestPlan.Ask(new ExportPrivateKeyPayload(certificate.Id, certificate.ThumbprintSha1), $"Export the private key of {certificate.Kind.ToString().ToLowerInvariant()} CA {SetupCertificates.ShortName(certificate.Subject)}", facts);
    }
}

/// <summary>Applies an approved key export: the passphrase goes to the requester alone, once (the approver never sees it).</summary>
public sealed class ExportPrivateKeyApproval(KeyExportHandler handler, ApprovalHandoff handoff) : ApprovalHandler<ExportPrivateKeyPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ExportPrivateKeyPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var result = setupId is { } id
            ? await handler.ExportAsync(approver, id, payload.CertificateId, payload.ThumbprintSha1, SetupApprovalOutcome.RequesterId(grant), grant, cancellationToken).ConfigureAwait(false)
            : null;
        if (result?.Value is { } exported)
        {
            handoff.Keep(ApprovalService.SecretKey(grant.RequestId), SetupApprovalOutcome.RequesterId(grant), Encoding.UTF8.GetBytes(exported.Passphrase));
            return ApprovalApplyResult.Applied(new(
                $"The private key is ready for {grant.RequestedBy} as encrypted PKCS#8 PEM ({exported.FileName}): one download, until {exported.Until.ToString("HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture)}.",
                exported.DownloadPath, "Download the encrypted key (once)", HasSecret: true, IsDownload: true));
        }

        return SetupApprovalOutcome.Of(result, _ => new(""));
    }
}
