using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>
/// An existing CA, checked in full when requested. Public parts only: the CA certificate and the issuers above it (PEM),
/// and, when a key came with it, the id under which the key already waits encrypted in the protected key store.
/// </summary>
/// <param name="CertificatePem">The CA being imported.</param>
/// <param name="IssuerChainPem">The checked path above it, nearest issuer first (empty for a root).</param>
/// <param name="KeyId">The key's id in the protected key store, or null for a certificate only.</param>
/// <param name="ExistingRootSha1">The setup's root when requested (null: none); applying refuses if it changed.</param>
[ApprovalPayloadKind("import-ca")]
public sealed record ImportCaPayload(
    string CertificatePem,
    IReadOnlyList<string> IssuerChainPem,
    string? KeyId,
    string ThumbprintSha1,
    string ThumbprintSha256,
    string? ExistingRootSha1) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.ImportCa;

    public override string? StoredKeyId => KeyId;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var root = SetupCertificates.RootOf(setup);
        if (setup.Certificates.Any(c => c.Kind == SetupCertificateKind.Intermediate))
        {
            return SetupRequestPlan.Refuse("This setup already has its root and intermediate CA.", "Use them, or create a new setup for another CA.");
        }

        if (!string.Equals(root?.ThumbprintSha1, this.ExistingRootSha1, StringComparison.OrdinalIgnoreCase))
        {
            return SetupRequestPlan.Refuse("The setup's CA changed while the import was being checked.", "Look at step 5 again and import once more if still needed.");
        }

        using var ca = X509Certificate2.CreateFromPem(this.CertificatePem);
        var description = CertificateDescription.Of(ca);
        var kind = root is null && this.IssuerChainPem.Count == 0 ? "Root" : "Intermediate";
        facts.Add(new("Becomes", root is null
            ? kind == "Root" ? "The setup's root CA" : "The setup's intermediate CA, with its issuer as the setup's root (certificate only)"
            : $"The setup's intermediate CA, under its root {SetupCertificates.ShortName(root.Subject)}"));
        facts.Add(new("Subject", description.Subject));
        facts.Add(new("Issuer", description.IsSelfSigned ? $"{description.Issuer} (self-signed)" : description.Issuer));
        facts.Add(new("Key type", description.KeyDescription));
        facts.Add(new("Valid", $"{description.NotBefore:yyyy-MM-dd} to {description.NotAfter:yyyy-MM-dd}"));
        facts.Add(new("SHA-1 thumbprint", this.ThumbprintSha1));
        facts.Add(new("SHA-256 thumbprint", this.ThumbprintSha256));
        facts.Add(new("Private key", this.KeyId is null ? "Certificate only" : "With private key (kept encrypted in the portal)"));
        var chain = this.IssuerChainPem.Select(pem =>
        {
            using var issuer = X509Certificate2.CreateFromPem(pem);
            return $"{SetupCertificates.ShortName(issuer.Subject)} (SHA-1 {issuer.Thumbprint})";
        }).ToList();
        facts.Add(new("Chain", chain.Count == 0 ? "None: a self-signed root" : string.Join(" → ", chain)));
        return SetupRequestPlan.Ask(this, $"Import {kind.ToLowerInvariant()} CA {SetupCertificates.ShortName(description.Subject)} for {setup.Name}{(this.KeyId is null ? " (certificate only)" : ", with its private key")}", facts);
    }
}

/// <summary>Applies an approved import from the request's public parts and its stored key, through the same code path.</summary>
public sealed class ImportCaApproval(CaImportHandler handler) : ApprovalHandler<ImportCaPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ImportCaPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.ImportAsync(approver, id, null, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            result => new($"Imported the {result.Certificate.Kind.ToString().ToLowerInvariant()} CA {SetupCertificates.ShortName(result.Certificate.Subject)} (SHA-1 {result.Certificate.ThumbprintSha1}), {(result.Certificate.HasKey ? "with its private key (kept encrypted in the portal)" : "certificate only")}.",
                $"setups/{setupId}/ca", "Open step 5"));
}
