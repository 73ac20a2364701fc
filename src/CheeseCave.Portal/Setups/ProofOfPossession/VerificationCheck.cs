using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>A checked verification certificate (the caller disposes it), the root it proves (tracked) and the code it carries; or why not.</summary>
public sealed record ManualProofCheck(X509Certificate2? Verification, SetupCertificate? Root, DpsCertificateInfo? Live, string? Code, PortalError? Error);

/// <summary>The rules a verification certificate made elsewhere must meet before it goes to the DPS.</summary>
public sealed class VerificationCheck(SetupProofStore proofs, TimeProvider time)
{
    /// <summary>
    /// The checks before a verification certificate goes to the DPS, the same when requesting, sending now and applying
    /// an approval: readable, no key in it, the CA uploaded and unverified, the code still the DPS's current one (the
    /// etag read after it was generated), CN exactly that code, signed by this CA, valid now.
    /// </summary>
    public async Task<ManualProofCheck> CheckAsync(DpsSetup setup, ArmProvisioningClient arm, PortalDbContext db, byte[] certificate, ManualProofPayload? approved, CancellationToken cancellationToken)
    {
        static ManualProofCheck Fail(string message, string whatToDo) => new(null, null, null, null, new PortalError(message, whatToDo));
        if (certificate.Length == 0)
        {
            return Fail("No verification certificate was given.", $"Choose {VerificationCommands.OutputFile} or paste its text.");
        }

        if (certificate.Length > CaImportLimits.MaxFileBytes)
        {
            return Fail(CaImportLimits.TooLarge("verification certificate", certificate.Length), $"Choose {VerificationCommands.OutputFile}.");
        }

        X509Certificate2 verification;
        try
        {
            using var read = CertificateReader.Read(certificate, cancellationToken: cancellationToken);
            if (read.Key is not null)
            {
                return Fail("The file also holds a private key.", $"Send only the certificate ({VerificationCommands.OutputFile}); keep keys where they are.");
            }

            verification = read.Certificates[0];
        }
        catch (PkiException ex)
        {
            return Fail($"This is not a readable certificate. {ex.Message}", $"Give {VerificationCommands.OutputFile} as made by the commands (PEM), or as DER.");
        }

        var keep = false;
        try
        {
            var (root, live, error) = await ProofState.ReadUploadedAsync(setup, arm, db, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return new(null, null, null, null, error);
            }

            if (live!.IsVerified)
            {
                root!.IsVerified = true;
                return Fail($"'{live.Name}' is already verified on the DPS.", "Go on to the enrollment group (step 8).");
            }

            if (approved is not null && SetupCertificates.CaChanged(root!, approved.ThumbprintSha1) is { } changed)
            {
                return new(null, null, null, null, changed);
            }

            var record = await proofs.ReadAsync(setup.Id, root!.Id, cancellationToken).ConfigureAwait(false);
            if (approved is not null && (record?.Code != approved.Code || record.DpsEtag != live.ETag))
            {
                // The code the approvers saw is no longer the DPS's current one: a newer code (or a new upload) replaced it.
                return Fail($"A new verification code was generated after this request was made, so the approved verification certificate (for code {approved.Code}) no longer counts.",
                    "Ask the requester to sign the new code and request proof of possession again.");
            }

            if (record?.Code is not { } code || record.DpsEtag != live.ETag)
            {
                return Fail(record?.Code is null
                        ? "There is no verification code for this CA yet."
                        : "The verification code was replaced: the certificate changed on the DPS after the code was issued (a newer code, or a new upload).",
                    "Get a verification code, make the verification certificate with it, and send that.");
            }

            var commonName = SubjectNames.GetCommonName(verification);
            if (!string.Equals(commonName, code, StringComparison.Ordinal))
            {
                return Fail($"The certificate's common name is '{commonName ?? "(none)"}', but the current verification code is '{code}'.",
                    $"Make the certificate again with CN={code} exactly (the commands shown use it).");
            }

            using var rootX509 = X509Certificate2.CreateFromPem(root.Pem);
            if (!SignatureVerifier.IsSignedBy(verification, rootX509))
            {
                return Fail($"The verification certificate is signed by a different CA (it names '{verification.Issuer}' as issuer), not by '{rootX509.Subject}'.",
                    $"Sign it with the private key of '{rootX509.Subject}', the CA uploaded to the DPS.");
            }

            var now = time.GetUtcNow();
            if (now < new DateTimeOffset(verification.NotBefore.ToUniversalTime()) || now > new DateTimeOffset(verification.NotAfter.ToUniversalTime()))
            {
                return Fail($"The verification certificate is only valid from {verification.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to {verification.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC, not now.",
                    "Make it again (the commands give 30 days) and check the clock of the machine that signs it.");
            }

            keep = true;
            return new(verification, root, live, code, null);
        }
        finally
        {
            if (!keep)
            {
                verification.Dispose();
            }
        }
    }
}
