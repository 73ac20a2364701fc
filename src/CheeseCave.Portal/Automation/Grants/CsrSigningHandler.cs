using System.Globalization;
using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// Signs a device's CSR under an issuance grant, with no person per device: the caller must be allowed to issue
/// (Operator, and a token with the issue scope), the grant active with certificates left, the CSR sound (signature,
/// not a CA, a key of at least P-256 / RSA 2048) and its CN a valid registration id within the grant's pattern. The
/// certificate is recorded (with its audit entry and the grant's count) before it is returned. Refusals change nothing.
/// </summary>
public sealed class CsrSigningHandler(
    ICallerAuthorization authorization,
    GrantLedger ledger,
    SigningCredentials credentials,
    IssuanceWriter writer,
    AuditLog audit,
    TimeProvider time)
{
    /// <summary>CSRs larger than this are refused unread (a P-384 or RSA 4096 CSR is well under 2 KB).</summary>
    public const int MaxCsrBytes = 16 * 1024;

    public async Task<PortalResult<SignedCertificate>> SignAsync(ClaimsPrincipal caller, int grantId, byte[] csr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csr);
        var actor = await authorization.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), AutomationAuditActions.CsrSigned, $"grant #{grantId}", AuditOutcomes.Denied, "Operator role required", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<SignedCertificate>(PortalError.NotAllowed("sign device CSRs"));
        }

        var grant = await ledger.GetAsync(grantId, cancellationToken).ConfigureAwait(false);
        if (grant is null)
        {
            return PortalResult.Fail<SignedCertificate>(GrantHandler.GrantNotFound);
        }

        if (Unusable(grant) is { } closed)
        {
            return PortalResult.Fail<SignedCertificate>(closed);
        }

        if (csr.Length > MaxCsrBytes)
        {
            return PortalResult.Fail<SignedCertificate>(Bad($"The request body is {csr.Length:N0} bytes; a CSR is at most {MaxCsrBytes:N0}.", "Send one PEM CSR per request."));
        }

        using var lease = await credentials.AcquireAsync(grant.SetupId, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            return PortalResult.Fail<SignedCertificate>(new PortalError("The grant's setup has no CA whose key the portal holds any more.", "Ask an operator to check the setup's CA (step 5).", Status: 409));
        }

        IssuedCertificate issued;
        try
        {
            issued = await lease.SignCsrAsync(new CertificateAuthority(time), new CsrSigningRequest(csr) { Validity = TimeSpan.FromDays(grant.ValidityDays) }, cancellationToken).ConfigureAwait(false);
        }
        catch (PkiException ex)
        {
            return PortalResult.Fail<SignedCertificate>(ex.Code == PkiErrorCode.IssuerExpired
                ? new PortalError(ex.Message, "Ask an operator to roll the setup's CA over.", Status: 409)
                : Bad(ex.Message, "Create the CSR again on the device: openssl req -new -key device.key -subj \"/CN=<registration id>\"."));
        }

        using (issued)
        {
            var cn = issued.CommonName ?? "";
            if (!grant.Pattern.Matches(cn))
            {
                return PortalResult.Fail<SignedCertificate>(Bad($"The CSR's CN '{cn}' is outside this grant's pattern '{grant.Pattern.Text}'.", "Use a registration id the grant covers, or ask for a grant that covers it."));
            }

            if (!grant.TryReserve())
            {
                return PortalResult.Fail<SignedCertificate>(UsedUp(grant));
            }

            var now = time.GetUtcNow();
            var device = new SetupDevice
            {
                SetupId = grant.SetupId,
                RegistrationId = cn,
                BatchId = $"grant-{grant.Id.ToString(CultureInfo.InvariantCulture)}",
                IssuedBy = actor.Name,
                IssuedAt = now,
                Source = DeviceCertificateSource.DeviceCsr,
                RequestedBy = actor.Name,
                ApprovedBy = grant.ApprovedBy,
                GrantId = grant.Id,
            };
            SignedDeviceFacts.Fill(device, issued);
            var entry = actor.Audit(now, AutomationAuditActions.CsrSigned, $"setup {grant.SetupId}", AuditOutcomes.Succeeded,
                $"grant #{grant.Id}: {cn}, serial {device.SerialNumber}, {device.KeyType}");
            bool recorded;
            try
            {
                recorded = await writer.RecordAsync(device, entry, grant.Id).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                grant.Release();
                throw;
            }

            if (!recorded)
            {
                // The database knows better (revoked, expired or used up a moment ago): read the grant again next time.
                grant.Exhaust();
                ledger.Forget(grant.Id);
                var fresh = await ledger.GetAsync(grant.Id, CancellationToken.None).ConfigureAwait(false);
                return PortalResult.Fail<SignedCertificate>(fresh is null ? GrantHandler.GrantNotFound : Unusable(fresh) ?? UsedUp(fresh));
            }

            return PortalResult.Ok(new SignedCertificate(device.Id, cn, device.SerialNumber, device.NotAfter, device.CertificatePem, device.ChainPem, grant.Remaining, issued.Warnings));
        }
    }

    private PortalError? Unusable(GrantState grant) =>
        grant.RevokedAt is { } revoked ? new PortalError($"Grant #{grant.Id} was revoked on {revoked.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC by {grant.RevokedBy}.", "Ask for a new grant.", Status: 410)
        : grant.ExpiresAt <= time.GetUtcNow() ? new PortalError($"Grant #{grant.Id} expired on {grant.ExpiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC.", "Ask for a new grant.", Status: 410)
        : grant.Remaining <= 0 ? UsedUp(grant)
        : null;

    private static PortalError UsedUp(GrantState grant) =>
        new($"Grant #{grant.Id} (\"{grant.Name}\") is used up: every certificate it allows has been signed.", "Ask for a new grant for the remaining devices.", Status: 409);

    private static PortalError Bad(string message, string whatToDo) => new(message, whatToDo, Status: 400);
}
