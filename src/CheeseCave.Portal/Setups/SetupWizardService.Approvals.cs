using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups;

/// <summary>A CA private key exported for its requester: downloadable once from <see cref="DownloadPath"/> until <see cref="Until"/>.</summary>
public sealed record KeyExportView(string DownloadPath, string Passphrase, DateTimeOffset Until, string FileName);

// The four-eyes gate of the wizard: gated actions record a request instead of applying (GateAsync), and an approved
// request is applied through the same *NowAsync code path (ApplyAsync). Also the two actions that exist only with
// the gate in mind: deleting the enrollment group and exporting a CA private key.
public sealed partial class SetupWizardService : IApprovalExecutor
{
    /// <summary>
    /// Null when the action may go ahead now (approvals off or not required for it). Otherwise the caller's role is
    /// checked, the request recorded with its plain-terms summary, and a "waiting for approval" result returned, or a
    /// clear error when the request would be pointless (no setup, already done, bad input, one already waiting).
    /// </summary>
    private async Task<SetupResult<T>?> GateAsync<T>(ClaimsPrincipal caller, int setupId, ApprovalPayload payload, string auditAction, string what, CancellationToken cancellationToken)
    {
        if (!payload.Actions.Any(Approvals.Requires))
        {
            return null;
        }

        var actor = await RequireChangeAsync(caller, auditAction, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<T>(SetupError.NotAllowed(what));
        }

        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().Include(s => s.Certificates).FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return SetupResult.Fail<T>(SetupError.NotFound);
        }

        if (payload.OnePendingPerSetup && await Approvals.FindPendingAsync(setupId, payload.Action, cancellationToken).ConfigureAwait(false) is { } open)
        {
            return SetupResult.Fail<T>(new SetupError($"A request to {what} is already waiting for approval (#{open.RequestId}: {open.Title}).",
                "Wait for it to be decided, or cancel it on its page and ask again."));
        }

        var (pinned, summary, problem) = Describe(setup, payload);
        if (problem is not null)
        {
            await Audit.WriteAsync(actor, auditAction, Target(setup), AuditOutcomes.Failed, Trim($"approval request refused: {problem.Message}"), cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<T>(problem);
        }

        return SetupResult.Waiting<T>(await Approvals.RecordAsync(actor, setupId, pinned!, summary!, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Applies an approved request as <paramref name="approver"/>, through the same code path as an ungated call.</summary>
    public async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ApprovalPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(grant);
        if (setupId is not { } id)
        {
            return ApprovalApplyResult.Failed("The request names no setup.");
        }

        switch (payload)
        {
            case CreateCaPayload create:
                return Outcome(await GenerateCaNowAsync(approver, id, create, grant, cancellationToken).ConfigureAwait(false),
                    ca => new($"Created the root CA {ca.Subject} (SHA-1 {ca.ThumbprintSha1}).", $"setups/{id}/ca", "Open step 5"));
            case UploadCaPayload upload:
                return Outcome(await UploadCaNowAsync(approver, id, upload.VerifiedOnUpload, upload.ThumbprintSha1, grant, cancellationToken).ConfigureAwait(false),
                    ca => new($"Uploaded {ca.Subject} to the DPS as {ca.DpsCertificateName} ({(ca.IsVerified ? "verified on upload" : "unverified")}).", $"setups/{id}/upload", "Open step 6"));
            case ProveCaPayload prove:
                return Outcome(await VerifyCaNowAsync(approver, id, prove.ThumbprintSha1, grant, progress, cancellationToken).ConfigureAwait(false),
                    ca => new($"{ca.DpsCertificateName} is verified on the DPS.", $"setups/{id}/verify", "Open step 7"));
            case ManualProofPayload manual:
                return Outcome(await SubmitVerificationNowAsync(approver, id, Encoding.ASCII.GetBytes(manual.VerificationPem), manual, grant, cancellationToken).ConfigureAwait(false),
                    proof => new($"{proof.DpsCertificateName} is verified on the DPS (verification certificate signed outside the portal).", $"setups/{id}/verify", "Open step 7"));
            case ImportCaPayload import:
                return Outcome(await ImportCaNowAsync(approver, id, null, import, grant, cancellationToken).ConfigureAwait(false),
                    result => new($"Imported the {result.Certificate.Kind.ToString().ToLowerInvariant()} CA {ShortName(result.Certificate.Subject)} (SHA-1 {result.Certificate.ThumbprintSha1}), {(result.Certificate.HasKey ? "with its private key (kept encrypted in the portal)" : "certificate only")}.",
                        $"setups/{id}/ca", "Open step 5"));
            case SaveEnrollmentGroupPayload save:
                return Outcome(await SaveEnrollmentGroupNowAsync(approver, id, save.Form, grant, cancellationToken).ConfigureAwait(false),
                    group => new($"Saved enrollment group {group.GroupId} ({(group.Enabled ? "enabled" : "disabled")}).", $"setups/{id}/enrollment", "Open step 8"));
            case DeleteEnrollmentGroupPayload delete:
                return Outcome(await DeleteEnrollmentGroupNowAsync(approver, id, delete.GroupId, grant, cancellationToken).ConfigureAwait(false),
                    _ => new($"Deleted enrollment group {delete.GroupId}.", $"setups/{id}/enrollment", "Open step 8"));
            case IssueDevicesPayload issue:
                {
                    var result = await IssueDevicesNowAsync(approver, id, issue.RegistrationIds, issue.IssuerSha1, grant, cancellationToken).ConfigureAwait(false);
                    if (result.Value is { } batch)
                    {
                        // The PFX password goes to the requester alone, once; the approver never sees it.
                        Handoff.Keep(ApprovalService.SecretKey(grant.RequestId), RequesterId(grant), Encoding.UTF8.GetBytes(batch.PfxPassword));
                        return ApprovalApplyResult.Applied(new(
                            $"Issued {batch.Devices.Count} device certificate{(batch.Devices.Count == 1 ? "" : "s")} (batch {batch.BatchId}). {grant.RequestedBy} can download keys and PFX files until {batch.KeysAvailableUntil.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)}.",
                            $"setups/{id}/batches/{batch.BatchId}.zip", "Download the batch (ZIP)", HasSecret: true, IsDownload: true));
                    }

                    return Outcome(result, _ => new(""));
                }

            case ExportPrivateKeyPayload export:
                {
                    var result = await ExportPrivateKeyNowAsync(approver, id, export.CertificateId, export.ThumbprintSha1, RequesterId(grant), grant, cancellationToken).ConfigureAwait(false);
                    if (result.Value is { } exported)
                    {
                        Handoff.Keep(ApprovalService.SecretKey(grant.RequestId), RequesterId(grant), Encoding.UTF8.GetBytes(exported.Passphrase));
                        return ApprovalApplyResult.Applied(new(
                            $"The private key is ready for {grant.RequestedBy} as encrypted PKCS#8 PEM ({exported.FileName}): one download, until {exported.Until.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)}.",
                            exported.DownloadPath, "Download the encrypted key (once)", HasSecret: true, IsDownload: true));
                    }

                    return Outcome(result, _ => new(""));
                }

            default:
                return ApprovalApplyResult.Failed($"The portal cannot apply a '{payload.Action}' request yet.");
        }

        static ApprovalApplyResult Outcome<T>(SetupResult<T> result, Func<T, ApprovalOutcome> describe) =>
            result switch
            {
                { Error: { } error } => ApprovalApplyResult.Failed($"{error.Message} {error.WhatToDo}".Trim()),
                { Value: { } value } => ApprovalApplyResult.Applied(describe(value)),
                _ => ApprovalApplyResult.Failed("Applying asked for approval again, which should not happen. Give an administrator the request number."),
            };
    }

    private static string RequesterId(ApprovalGrant grant) =>
        grant.RequestedById ?? throw new InvalidOperationException($"Request #{grant.RequestId} has no requester id to hand its secret to.");

    // ------------------------------------------------------------------ step 8: deleting the enrollment group

    /// <summary>Deletes the setup's enrollment group from its DPS (devices of the group can no longer register).</summary>
    public async Task<SetupResult<bool>> DeleteEnrollmentGroupAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        await GateAsync<bool>(caller, setupId, new DeleteEnrollmentGroupPayload(""), ApprovalAuditActions.EnrollmentGroupDeleted, "delete the enrollment group", cancellationToken).ConfigureAwait(false)
        ?? await DeleteEnrollmentGroupNowAsync(caller, setupId, null, null, cancellationToken).ConfigureAwait(false);

    private Task<SetupResult<bool>> DeleteEnrollmentGroupNowAsync(ClaimsPrincipal caller, int setupId, string? expectedGroupId, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        ChangeAsync<bool>(caller, setupId, ApprovalAuditActions.EnrollmentGroupDeleted, Noted(expectedGroupId ?? "enrollment group", grant), "delete the enrollment group", async (setup, arm, _) =>
        {
            if (setup is not { EnrollmentGroupId: { } groupId, ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return SetupResult.Fail<bool>(new SetupError("This setup has no enrollment group.", "Nothing to delete."));
            }

            if (expectedGroupId is not null && !string.Equals(groupId, expectedGroupId, StringComparison.OrdinalIgnoreCase))
            {
                return SetupResult.Fail<bool>(new SetupError($"The setup's enrollment group is now '{groupId}', not '{expectedGroupId}' as requested.", "Make a new request for the current group."));
            }

            using var service = await DpsServiceAsync(caller, arm, group, dpsName, cancellationToken).ConfigureAwait(false);
            await service.DeleteEnrollmentGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
            setup.EnrollmentGroupId = null;
            return SetupResult.Ok(true);
        }, cancellationToken);

    // ------------------------------------------------------------------ exporting a CA private key

    /// <summary>
    /// Exports a CA key of the setup as encrypted PKCS#8 PEM with a generated passphrase. The PEM waits in memory for
    /// one download by the requester (never over the circuit); the passphrase is returned once (or, after approval,
    /// shown once to the requester on the request's page).
    /// </summary>
    public async Task<SetupResult<KeyExportView>> ExportPrivateKeyAsync(ClaimsPrincipal caller, int setupId, int certificateId, CancellationToken cancellationToken = default) =>
        await GateAsync<KeyExportView>(caller, setupId, new ExportPrivateKeyPayload(certificateId, ""), ApprovalAuditActions.KeyExported, "export a CA private key", cancellationToken).ConfigureAwait(false)
        ?? await ExportPrivateKeyNowAsync(caller, setupId, certificateId, null, null, null, cancellationToken).ConfigureAwait(false);

    private async Task<SetupResult<KeyExportView>> ExportPrivateKeyNowAsync(ClaimsPrincipal caller, int setupId, int certificateId, string? expectedThumbprint, string? ownerId, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var target = $"setup {setupId} certificate {certificateId}";
        var actor = await RequireChangeAsync(caller, ApprovalAuditActions.KeyExported, target, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<KeyExportView>(SetupError.NotAllowed("export CA private keys"));
        }

        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var certificate = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        SetupError? problem = certificate switch
        {
            null => SetupError.NotFound,
            { KeyId: null } => new SetupError("The portal does not hold this CA's private key, so there is nothing to export.", "Export it where the key is kept."),
            _ => CaChanged(certificate, expectedThumbprint),
        };
        if (problem is not null)
        {
            await Audit.WriteAsync(actor, ApprovalAuditActions.KeyExported, target, AuditOutcomes.Failed, Trim(Noted(problem.Message, grant)), cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<KeyExportView>(problem);
        }

        string pem;
        var passphrase = Passphrases.Generate();
        try
        {
            using var key = await Keys.OpenAsync(certificate!.KeyId!, cancellationToken).ConfigureAwait(false);
            pem = key is PrivateKey software
                ? software.ExportEncryptedPem(passphrase)
                : throw new PkiException(PkiErrorCode.UnsupportedKey, "This key cannot be exported: it is not a software key.");
        }
        catch (PkiException ex)
        {
            await Audit.WriteAsync(actor, ApprovalAuditActions.KeyExported, target, AuditOutcomes.Failed, Trim(Noted(ex.Message, grant)), cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<KeyExportView>(new SetupError(ex.Message, "If the key is unreadable, the portal's keys/ folder may have been lost or replaced."));
        }

        var fileName = FileNameFor(certificate) + ".key.pem";
        var downloadId = $"{Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant()}";
        var until = Handoff.Keep(KeyExportKey(downloadId), ownerId ?? actor.Id ?? throw new InvalidOperationException("The caller has no user id."), Encoding.ASCII.GetBytes(pem));
        await Audit.WriteAsync(actor, ApprovalAuditActions.KeyExported, target, AuditOutcomes.Succeeded, Trim(Noted($"{fileName}: encrypted PKCS#8, one download until {until:HH:mm} UTC", grant)), cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(new KeyExportView($"setups/{setupId}/key-exports/{downloadId}/{fileName}", passphrase, until, fileName));
    }

    /// <summary>The exported key, once, for the user it was exported for, within its window. Audited.</summary>
    public async Task<SetupResult<CertificateFile>> DownloadKeyExportAsync(ClaimsPrincipal caller, int setupId, string downloadId, string fileName, CancellationToken cancellationToken = default)
    {
        var target = $"setup {setupId} key export";
        var actor = await RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await Audit.WriteAsync(Actor.From(caller), ApprovalAuditActions.KeyExportDownloaded, target, AuditOutcomes.Denied, "Operator role required", cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(SetupError.NotAllowed("download exported keys"));
        }

        if (Handoff.Take(KeyExportKey(downloadId), actor.Id) is not { } pem)
        {
            await Audit.WriteAsync(actor, ApprovalAuditActions.KeyExportDownloaded, target, AuditOutcomes.Failed, "not waiting for this user", cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(new SetupError("This key export is not (or no longer) available to you.",
                "An export is downloadable once, by the person it was made for, for 15 minutes. Export it again.", Status: 410));
        }

        await Audit.WriteAsync(actor, ApprovalAuditActions.KeyExportDownloaded, target, AuditOutcomes.Succeeded, Trim(fileName), cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(new CertificateFile(fileName, "application/x-pem-file", pem));
    }

    private static string KeyExportKey(string downloadId) => $"key-export/{downloadId}";

    // ------------------------------------------------------------------ plain-terms summaries

    /// <summary>
    /// What a request will do, in the words an approver needs (subject, key type, validity, thumbprints, DPS, hubs,
    /// device count), plus the payload pinned to what the requester saw (e.g. the CA's thumbprint). Obvious problems
    /// are refused now rather than after a colleague approved.
    /// </summary>
    private static (ApprovalPayload? Pinned, ApprovalSummary? Summary, SetupError? Problem) Describe(DpsSetup setup, ApprovalPayload payload)
    {
        static (ApprovalPayload?, ApprovalSummary?, SetupError?) Refuse(string problem, string whatToDo) => (null, null, new SetupError(problem, whatToDo));
        var facts = new List<ApprovalFact> { new("Setup", setup.Name) };
        var dps = setup.DpsName is null ? null : $"{setup.DpsName} (resource group {setup.ResourceGroup})";
        var root = RootOf(setup);

        switch (payload)
        {
            case CreateCaPayload create:
                {
                    if (setup.RootCertificateId is not null)
                    {
                        return Refuse("This setup already has a CA.", "Use it, or create a new setup for another CA.");
                    }

                    var policy = IssuancePolicy.For(create.Preset);
                    var intermediate = string.IsNullOrWhiteSpace(create.IntermediateSubject) ? null : create.IntermediateSubject.Trim();
                    try
                    {
                        facts.Add(new("Root CA subject", SubjectNames.Parse(create.RootSubject).Name));
                        if (intermediate is not null)
                        {
                            facts.Add(new("Intermediate CA subject", SubjectNames.Parse(intermediate).Name));
                        }
                    }
                    catch (PkiException ex)
                    {
                        return Refuse(ex.Message, "Correct the name and try again.");
                    }

                    facts.Add(new("Preset", create.Preset == ProfilePreset.Recommended ? "Recommended" : "certGen.sh compatible"));
                    facts.Add(new("Key type", policy.KeyAlgorithm.ToDisplay()));
                    facts.Add(new("Validity", $"root {Days(policy.RootValidity)}" + (intermediate is null ? "" : $", intermediate {Days(policy.IntermediateValidity)}")));
                    facts.Add(new("Private keys", "Generated in the portal, stored encrypted; never shown or downloaded"));
                    var title = $"Create root CA \"{create.RootSubject.Trim()}\"{(intermediate is null ? "" : " and an intermediate CA")} for {setup.Name}";
                    return (create with { RootSubject = create.RootSubject.Trim(), IntermediateSubject = intermediate }, new(title, facts), null);
                }

            case UploadCaPayload upload:
                {
                    if (root is null)
                    {
                        return Refuse("This setup has no CA yet.", "Generate it in step 5 first.");
                    }

                    if (dps is null)
                    {
                        return Refuse("This setup has no DPS yet.", "Create or pick one in step 1 first.");
                    }

                    AddCertificateFacts(facts, root);
                    facts.Add(new("Target DPS", dps));
                    facts.Add(new("Name in the DPS", root.DpsCertificateName ?? FileNameFor(root)));
                    facts.Add(new("What happens", upload.VerifiedOnUpload
                        ? "The certificate (public part only) is uploaded and marked verified: the DPS trusts it without proof that anyone holds its key"
                        : "The certificate (public part only) is uploaded unverified; proof of possession is a separate step"));
                    return (new UploadCaPayload(root.ThumbprintSha1, upload.VerifiedOnUpload),
                        new($"Upload root CA {ShortName(root.Subject)} to DPS {setup.DpsName}{(upload.VerifiedOnUpload ? ", marked verified" : "")}", facts), null);
                }

            case ProveCaPayload:
                {
                    if (root?.DpsCertificateName is null || dps is null)
                    {
                        return Refuse("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first.");
                    }

                    if (root.IsVerified)
                    {
                        return Refuse("The CA is already verified.", "Nothing to do: go on to step 8.");
                    }

                    if (root.KeyId is null)
                    {
                        return Refuse("The portal does not hold this CA's private key.", "Sign the verification certificate where the key is kept.");
                    }

                    AddCertificateFacts(facts, root);
                    facts.Add(new("Target DPS", dps));
                    facts.Add(new("Name in the DPS", root.DpsCertificateName));
                    facts.Add(new("What happens", "The portal signs DPS's verification code with this CA's key and submits it: DPS then trusts every device certificate chaining up to this CA"));
                    return (new ProveCaPayload(root.ThumbprintSha1), new($"Verify root CA {ShortName(root.Subject)} on DPS {setup.DpsName} (proof of possession)", facts), null);
                }

            case ImportCaPayload import:
                {
                    if (setup.Certificates.Any(c => c.Kind == SetupCertificateKind.Intermediate))
                    {
                        return Refuse("This setup already has its root and intermediate CA.", "Use them, or create a new setup for another CA.");
                    }

                    if (!string.Equals(root?.ThumbprintSha1, import.ExistingRootSha1, StringComparison.OrdinalIgnoreCase))
                    {
                        return Refuse("The setup's CA changed while the import was being checked.", "Look at step 5 again and import once more if still needed.");
                    }

                    using var ca = X509Certificate2.CreateFromPem(import.CertificatePem);
                    var description = CertificateDescription.Of(ca);
                    var kind = root is null && import.IssuerChainPem.Count == 0 ? "Root" : "Intermediate";
                    facts.Add(new("Becomes", root is null
                        ? kind == "Root" ? "The setup's root CA" : "The setup's intermediate CA, with its issuer as the setup's root (certificate only)"
                        : $"The setup's intermediate CA, under its root {ShortName(root.Subject)}"));
                    facts.Add(new("Subject", description.Subject));
                    facts.Add(new("Issuer", description.IsSelfSigned ? $"{description.Issuer} (self-signed)" : description.Issuer));
                    facts.Add(new("Key type", description.KeyDescription));
                    facts.Add(new("Valid", $"{description.NotBefore:yyyy-MM-dd} to {description.NotAfter:yyyy-MM-dd}"));
                    facts.Add(new("SHA-1 thumbprint", import.ThumbprintSha1));
                    facts.Add(new("SHA-256 thumbprint", import.ThumbprintSha256));
                    facts.Add(new("Private key", import.KeyId is null ? "Certificate only" : "With private key (kept encrypted in the portal)"));
                    var chain = import.IssuerChainPem.Select(pem =>
                    {
                        using var issuer = X509Certificate2.CreateFromPem(pem);
                        return $"{ShortName(issuer.Subject)} (SHA-1 {issuer.Thumbprint})";
                    }).ToList();
                    facts.Add(new("Chain", chain.Count == 0 ? "None: a self-signed root" : string.Join(" → ", chain)));
                    return (import, new($"Import {kind.ToLowerInvariant()} CA {ShortName(description.Subject)} for {setup.Name}{(import.KeyId is null ? " (certificate only)" : ", with its private key")}", facts), null);
                }

            case ManualProofPayload manual:
                {
                    if (root?.DpsCertificateName is null || dps is null)
                    {
                        return Refuse("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first.");
                    }

                    if (root.IsVerified)
                    {
                        return Refuse("The CA is already verified.", "Nothing to do: go on to step 8.");
                    }

                    if (CaChanged(root, manual.ThumbprintSha1) is { } changed)
                    {
                        return (null, null, changed);
                    }

                    using var verification = X509Certificate2.CreateFromPem(manual.VerificationPem);
                    AddCertificateFacts(facts, root);
                    facts.Add(new("Target DPS", dps));
                    facts.Add(new("Name in the DPS", root.DpsCertificateName));
                    facts.Add(new("Verification code", manual.Code));
                    facts.Add(new("Verification certificate", $"{verification.Subject}, issued by {verification.Issuer}, valid until {verification.NotAfter.ToUniversalTime():yyyy-MM-dd}, SHA-1 {verification.Thumbprint}"));
                    facts.Add(new("What happens", "The verification certificate, signed outside the portal with this CA's key, is submitted: DPS then trusts every device certificate chaining up to this CA. A newer code generated before approval makes it void"));
                    return (manual, new($"Verify root CA {ShortName(root.Subject)} on DPS {setup.DpsName} (proof of possession, signed by hand)", facts), null);
                }

            case SaveEnrollmentGroupPayload save:
                {
                    var form = save.Form;
                    var id = form.GroupId?.Trim() ?? "";
                    var idCheck = EnrollmentRules.CheckGroupId(id);
                    if (!idCheck.IsValid)
                    {
                        return Refuse(idCheck.Problem!, "Correct the enrollment group id and try again.");
                    }

                    foreach (var (json, what) in new[] { (form.TagsJson, "tags"), (form.DesiredJson, "desired properties") })
                    {
                        if (EnrollmentRules.ParseTwinObject(json, what).Problem is { } twinProblem)
                        {
                            return Refuse(twinProblem, $"Fix the {what} JSON (or empty the field) and try again.");
                        }
                    }

                    if (dps is null)
                    {
                        return Refuse("This setup has no DPS yet.", "Finish step 1 first.");
                    }

                    var change = string.Equals(setup.EnrollmentGroupId, id, StringComparison.OrdinalIgnoreCase);
                    facts.Add(new("Operation", change ? "Change the existing enrollment group" : "Create an enrollment group"));
                    facts.Add(new("Enrollment group", id));
                    facts.Add(new("Target DPS", dps));
                    var primary = setup.Certificates.FirstOrDefault(c => c.DpsCertificateName == form.PrimaryCa);
                    facts.Add(new("Primary CA", primary is null ? form.PrimaryCa : $"{form.PrimaryCa}: {ShortName(primary.Subject)}, SHA-1 {primary.ThumbprintSha1}"));
                    if (!string.IsNullOrWhiteSpace(form.SecondaryCa))
                    {
                        facts.Add(new("Secondary CA", form.SecondaryCa));
                    }

                    facts.Add(new("Hubs", form.Hubs.Count > 0 ? string.Join(", ", form.Hubs) : $"all hubs linked to the DPS{(setup.LinkedHubs is { } linked ? $": {linked}" : "")}"));
                    facts.Add(new("Allocation", form.AllocationPolicy.ToString()));
                    facts.Add(new("When a device registers again", EnrollmentRules.Title(form.Reprovision)));
                    facts.Add(new("Devices may register", form.Enabled ? "Yes (enabled)" : "No (disabled)"));
                    if (form.IotEdge)
                    {
                        facts.Add(new("IoT Edge", "Yes"));
                    }

                    if (!string.IsNullOrWhiteSpace(form.TagsJson))
                    {
                        facts.Add(new("Initial twin tags", form.TagsJson.Trim()));
                    }

                    if (!string.IsNullOrWhiteSpace(form.DesiredJson))
                    {
                        facts.Add(new("Initial desired properties", form.DesiredJson.Trim()));
                    }

                    var copy = CopyOf(form);
                    copy.GroupId = id;
                    return (new SaveEnrollmentGroupPayload(copy), new($"{(change ? "Change" : "Create")} enrollment group {id} on DPS {setup.DpsName}", facts), null);
                }

            case DeleteEnrollmentGroupPayload:
                {
                    if (setup.EnrollmentGroupId is not { } groupId || dps is null)
                    {
                        return Refuse("This setup has no enrollment group.", "Nothing to delete.");
                    }

                    facts.Add(new("Enrollment group", groupId));
                    facts.Add(new("Target DPS", dps));
                    facts.Add(new("What happens", "The group is deleted: its devices can no longer register (devices already in a hub stay there)"));
                    return (new DeleteEnrollmentGroupPayload(groupId), new($"Delete enrollment group {groupId} from DPS {setup.DpsName}", facts), null);
                }

            case IssueDevicesPayload issue:
                {
                    var ids = issue.RegistrationIds;
                    if (ids.Count == 0)
                    {
                        return Refuse("No registration ids given.", "Enter one id per line, or a prefix and a count.");
                    }

                    if (ids.Count > DeviceSettings.MaxBatch)
                    {
                        return Refuse($"{ids.Count} devices at once is too many.", $"Issue at most {DeviceSettings.MaxBatch} per batch.");
                    }

                    var invalid = DeviceSettings.Check(ids).Where(c => !c.IsValid).ToList();
                    if (invalid.Count > 0)
                    {
                        return Refuse(string.Join(" ", invalid.Take(3).SelectMany(c => c.Errors)), "Correct the registration ids and try again.");
                    }

                    var issuer = setup.Certificates.FirstOrDefault(c => c.Kind == SetupCertificateKind.Intermediate && c.KeyId is not null) ?? (root is { KeyId: not null } ? root : null);
                    if (issuer is null)
                    {
                        return Refuse("This setup has no CA whose key the portal holds.", "Generate the CA in step 5 first.");
                    }

                    var device = IssuancePolicy.Recommended;
                    facts.Add(new("Device count", ids.Count.ToString(CultureInfo.InvariantCulture)));
                    facts.Add(new("Registration ids", ids.Count <= 5 ? string.Join(", ", ids) : $"{string.Join(", ", ids.Take(3))} … {ids[^1]}"));
                    facts.Add(new("Issuing CA", $"{ShortName(issuer.Subject)} ({issuer.Kind.ToString().ToLowerInvariant()}), SHA-1 {issuer.ThumbprintSha1}"));
                    facts.Add(new("Key type", $"{device.KeyAlgorithm.ToDisplay()}, a new key per device"));
                    facts.Add(new("Validity", Days(device.DeviceValidity)));
                    facts.Add(new("Keys", "Downloadable by the requester for 15 minutes after it is applied; the PFX password is shown once, to the requester"));
                    return (issue with { IssuerSha1 = issuer.ThumbprintSha1 }, new($"Issue {ids.Count} device certificate{(ids.Count == 1 ? "" : "s")} for {setup.Name}", facts), null);
                }

            case ExportPrivateKeyPayload export:
                {
                    var certificate = setup.Certificates.FirstOrDefault(c => c.Id == export.CertificateId);
                    if (certificate is null)
                    {
                        return Refuse("This certificate is not one of the setup's CAs.", "Pick a CA of this setup.");
                    }

                    if (certificate.KeyId is null)
                    {
                        return Refuse("The portal does not hold this CA's private key, so there is nothing to export.", "Export it where the key is kept.");
                    }

                    AddCertificateFacts(facts, certificate);
                    facts.Add(new("Format", "Encrypted PKCS#8 PEM (AES-256-CBC, PBKDF2-SHA256)"));
                    facts.Add(new("Passphrase", "Generated; shown once, to the requester only"));
                    facts.Add(new("Download", "Once, by the requester, within 15 minutes after it is approved"));
                    facts.Add(new("Risk", "Whoever holds this key and passphrase can issue certificates DPS trusts"));
                    return (new ExportPrivateKeyPayload(certificate.Id, certificate.ThumbprintSha1),
                        new($"Export the private key of {certificate.Kind.ToString().ToLowerInvariant()} CA {ShortName(certificate.Subject)}", facts), null);
                }

            default:
                return Refuse($"The portal cannot put a '{payload.Action}' request up for approval yet.", "Ask an administrator to turn approvals off for it.");
        }
    }

    private static void AddCertificateFacts(List<ApprovalFact> facts, SetupCertificate certificate)
    {
        using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
        var description = CertificateDescription.Of(x509);
        facts.Add(new("Certificate", $"{certificate.Kind} CA {certificate.Subject}"));
        facts.Add(new("Key type", description.KeyDescription));
        facts.Add(new("Valid", $"{certificate.NotBefore:yyyy-MM-dd} to {certificate.NotAfter:yyyy-MM-dd}"));
        facts.Add(new("SHA-1 thumbprint", certificate.ThumbprintSha1));
        facts.Add(new("SHA-256 thumbprint", certificate.ThumbprintSha256));
    }

    private static string Days(TimeSpan validity) => validity.TotalDays >= 365
        ? $"{validity.TotalDays / 365.25:0.#} years ({validity.TotalDays:0} days)"
        : $"{validity.TotalDays:0} days";

    /// <summary>The CA the approvers saw must still be the one acted on.</summary>
    private static SetupError? CaChanged(SetupCertificate certificate, string? expectedThumbprint) =>
        string.IsNullOrEmpty(expectedThumbprint) || string.Equals(certificate.ThumbprintSha1, expectedThumbprint, StringComparison.OrdinalIgnoreCase)
            ? null
            : new SetupError($"The CA changed since the request (it was SHA-1 {expectedThumbprint}, it is now {certificate.ThumbprintSha1}).", "Make a new request for the current CA.");

    /// <summary>An audit detail with the approval's attribution, when applying one.</summary>
    private static string Noted(string detail, ApprovalGrant? grant) => grant is null ? detail : $"{detail}; {grant.AuditNote}";

    private static EnrollmentGroupForm CopyOf(EnrollmentGroupForm form) => new()
    {
        GroupId = form.GroupId,
        PrimaryCa = form.PrimaryCa,
        SecondaryCa = form.SecondaryCa,
        Hubs = [.. form.Hubs],
        AllocationPolicy = form.AllocationPolicy,
        Reprovision = form.Reprovision,
        TagsJson = form.TagsJson,
        DesiredJson = form.DesiredJson,
        IotEdge = form.IotEdge,
        Enabled = form.Enabled,
    };
}
