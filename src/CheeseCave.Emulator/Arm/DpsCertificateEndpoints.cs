using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// CA certificates of a DPS (docs/azure-wire.md §2) with the proof-of-possession flow: upload, generate a verification
/// code, verify a certificate whose CN is that code and which this CA's key signed. Every mutation changes the
/// etag, and If-Match is checked inside the store transaction so two clients with the same etag cannot both win.
/// </summary>
internal static class DpsCertificateEndpoints
{
    public const string ResourceType = "Microsoft.Devices/ProvisioningServices/Certificates";

    public const int MaxCertificatesPerService = 25;

    public const int MaxNameLength = 256;

    public static WebApplication MapDpsCertificateEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var certificates = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/provisioningServices/{provisioningServiceName}/certificates")
            .AddEndpointFilter(ArmRequests.Filter);
        certificates.MapGet(string.Empty, (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        {
            var dps = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var items = OfService(ctx, dps).OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Select(c => (JsonNode)Describe(dps, c));
            return Results.Json(new JsonObject { ["value"] = new JsonArray([.. items]) });
        });
        certificates.MapPut("/{certificateName}", PutAsync);
        certificates.MapGet("/{certificateName}", (string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, EmulatorContext ctx) =>
        {
            var dps = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            return Results.Json(Describe(dps, RequireCertificate(ctx, dps, certificateName)));
        });
        certificates.MapDelete("/{certificateName}", DeleteAsync);
        certificates.MapPost("/{certificateName}/generateVerificationCode", GenerateVerificationCodeAsync);
        certificates.MapPost("/{certificateName}/verify", VerifyAsync);
        return app;
    }

    /// <summary>CertificateResponse (docs/azure-wire.md §2); <paramref name="verificationCode"/> makes it a VerificationCodeResponse.</summary>
    public static JsonObject Describe(ProvisioningServiceEntity dps, DpsCertificateEntity certificate, string? verificationCode = null)
    {
        ArgumentNullException.ThrowIfNull(dps);
        ArgumentNullException.ThrowIfNull(certificate);
        using var x509 = X509CertificateLoader.LoadCertificate(certificate.Der);
        var properties = new JsonObject();
        if (verificationCode is not null) properties["verificationCode"] = verificationCode;
        properties["subject"] = SubjectOf(x509);
        properties["expiry"] = ArmRequests.Rfc1123(new DateTimeOffset(x509.NotAfter.ToUniversalTime()));
        properties["thumbprint"] = x509.Thumbprint;
        properties["isVerified"] = certificate.IsVerified;
        properties["certificate"] = Convert.ToBase64String(certificate.Der);
        properties["created"] = ArmRequests.Rfc1123(certificate.Created);
        properties["updated"] = ArmRequests.Rfc1123(certificate.Updated);
        return new JsonObject
        {
            ["id"] = $"{ProvisioningServiceEndpoints.PathOf(dps)}/certificates/{Uri.EscapeDataString(certificate.Name)}",
            ["name"] = certificate.Name,
            ["type"] = ResourceType,
            ["etag"] = certificate.Etag,
            ["properties"] = properties,
        };
    }

    private static string SubjectOf(X509Certificate2 certificate) =>
        SubjectNames.GetCommonName(certificate) is { } cn ? "CN=" + cn : certificate.Subject;

    private static IEnumerable<DpsCertificateEntity> OfService(EmulatorContext ctx, ProvisioningServiceEntity dps) =>
        ctx.Store.DpsCertificates.All.Where(c => c.Dps.Equals(dps.Name, StringComparison.OrdinalIgnoreCase));

    private static DpsCertificateEntity RequireCertificate(EmulatorContext ctx, ProvisioningServiceEntity dps, string name) =>
        ctx.Store.DpsCertificates.Get(ArmKeys.DpsCertificate(dps.Name, name))
        ?? throw new ArmErrorException(404, "ResourceNotFound", $"The certificate '{name}' was not found on provisioning service '{dps.Name}'.");

    /// <summary>If-Match for generateVerificationCode, verify and delete: required, and exactly the current etag or "*".</summary>
    private static void RequireIfMatch(HttpRequest request, DpsCertificateEntity certificate, string operation)
    {
        if (!ArmJson.HasIfMatch(request))
        {
            throw new ArmErrorException(400, "MissingIfMatchHeader",
                $"{operation} needs an If-Match header: read the certificate '{certificate.Name}' and send its etag (or '*').");
        }

        if (!ArmJson.IfMatchAccepts(request, certificate.Etag, required: true))
        {
            throw Stale(certificate);
        }
    }

    private static ArmErrorException Stale(DpsCertificateEntity certificate) =>
        new(412, "PreconditionFailed",
            $"The etag in If-Match does not match the current etag of certificate '{certificate.Name}' (like DPS's IH412001 \"Invalid ETag supplied\"). The etag changes after every step: read the certificate again and retry with its new etag.");

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        if (certificateName.Length > MaxNameLength || string.IsNullOrWhiteSpace(certificateName))
        {
            throw new ArmErrorException(400, "InvalidCertificateName", $"The certificate name must have 1 to {MaxNameLength} characters (it has {certificateName.Length}).");
        }

        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);

        // 2022-02-05 swagger: top-level {certificate, isVerified}; Node 6.0.0 and 2026-08-31: {properties: {...}}.
        var properties = ArmRequests.OptionalObject(body, "properties", "properties");
        var holder = ArmRequests.Property(body, "certificate") is not null || properties is null ? body : properties;
        var prefix = ReferenceEquals(holder, body) ? string.Empty : "properties.";
        var isVerified = ArmRequests.OptionalBool(holder, "isVerified", prefix + "isVerified")
            ?? ArmRequests.OptionalBool(ReferenceEquals(holder, body) ? properties : body, "isVerified", "isVerified")
            ?? false;
        byte[] der;
        using (var certificate = CertificateUpload.Decode(ArmRequests.OptionalString(holder, "certificate", prefix + "certificate"), prefix + "certificate"))
        {
            der = certificate.RawData;
        }

        var key = ArmKeys.DpsCertificate(dps.Name, certificateName);
        var entity = await ctx.Store.WriteAsync(tx =>
        {
            var current = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var existing = ctx.Store.DpsCertificates.Get(key);
            if (existing is null)
            {
                // Creating ignores If-Match (docs/azure-wire.md §2).
                if (OfService(ctx, current).Count() >= MaxCertificatesPerService)
                {
                    throw new ArmErrorException(400, "CertificateLimitExceeded",
                        $"The provisioning service '{current.Name}' already holds {MaxCertificatesPerService} certificates, the DPS limit. Delete one before uploading another.");
                }
            }
            else if (!ArmJson.HasIfMatch(request))
            {
                throw new ArmErrorException(412, "PreconditionFailed",
                    $"The certificate '{existing.Name}' already exists: updating it needs If-Match with its current etag (or '*'). Read the certificate again and send its etag.");
            }
            else if (!ArmJson.IfMatchAccepts(request, existing.Etag, required: true))
            {
                throw Stale(existing);
            }

            var now = ctx.Time.GetUtcNow();
            var updated = new DpsCertificateEntity(current.Name, existing?.Name ?? certificateName, der, isVerified, null, EmulatorContext.NewEtag(), existing?.Created ?? now, now);
            tx.Put(ctx.Store.DpsCertificates, key, updated);
            return updated;
        }).ConfigureAwait(false);
        return Results.Json(Describe(dps, entity));
    }

    /// <summary>Needs If-Match (400 without, 412 when stale); a certificate that is already gone answers 204.</summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        if (!ArmJson.HasIfMatch(request))
        {
            throw new ArmErrorException(400, "MissingIfMatchHeader",
                $"Deleting a certificate needs an If-Match header: read the certificate '{certificateName}' and send its etag (or '*').");
        }

        var key = ArmKeys.DpsCertificate(dps.Name, certificateName);
        var deleted = await ctx.Store.WriteAsync(tx =>
        {
            var existing = ctx.Store.DpsCertificates.Get(key);
            if (existing is null) return false;
            RequireIfMatch(request, existing, "Deleting a certificate");
            tx.Delete(ctx.Store.DpsCertificates, key);
            return true;
        }).ConfigureAwait(false);
        return deleted ? Results.Ok() : Results.NoContent();
    }

    private static async Task<IResult> GenerateVerificationCodeAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)); // 48 upper-case hex digits, as DPS issues them
        var entity = await ctx.Store.WriteAsync(tx =>
        {
            var existing = RequireCertificate(ctx, dps, certificateName);
            RequireIfMatch(request, existing, "generateVerificationCode");
            var updated = existing with { VerificationCode = code, Etag = EmulatorContext.NewEtag(), Updated = ctx.Time.GetUtcNow() };
            tx.Put(ctx.Store.DpsCertificates, ArmKeys.DpsCertificate(dps.Name, existing.Name), updated);
            return updated;
        }).ConfigureAwait(false);
        return Results.Json(Describe(dps, entity, code));
    }

    private static async Task<IResult> VerifyAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceEndpoints.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var properties = ArmRequests.OptionalObject(body, "properties", "properties");
        var text = ArmRequests.OptionalString(body, "certificate", "certificate") ?? ArmRequests.OptionalString(properties, "certificate", "properties.certificate");
        var entity = await ctx.Store.WriteAsync(tx =>
        {
            var existing = RequireCertificate(ctx, dps, certificateName);
            RequireIfMatch(request, existing, "verify");
            if (existing.VerificationCode is not { } code)
            {
                throw new ArmErrorException(400, "VerificationCodeMissing",
                    $"The certificate '{existing.Name}' has no current verification code: generate a verification code first (POST .../generateVerificationCode), then sign a certificate with that code as its CN.");
            }

            using var verification = CertificateUpload.Decode(text, "certificate");
            using var ca = X509CertificateLoader.LoadCertificate(existing.Der);
            var cn = SubjectNames.GetCommonName(verification);
            if (!string.Equals(cn, code, StringComparison.Ordinal))
            {
                throw new ArmErrorException(400, "InvalidVerificationCertificate",
                    $"Proof-of-possession failed: the verification certificate's CN must be the current verification code '{code}', but it is '{cn ?? "(no CN)"}'. Generate a code, then issue the verification certificate with exactly that CN.");
            }

            if (!SignatureVerifier.IsSignedBy(verification, ca))
            {
                var sameName = verification.IssuerName.RawData.AsSpan().SequenceEqual(ca.SubjectName.RawData);
                throw new ArmErrorException(400, "InvalidVerificationCertificate", sameName
                    ? $"Proof-of-possession failed (IH400053): the verification certificate names '{ca.Subject}' as its issuer, but its signature does not verify with that certificate's key; it was signed by a different key. Sign it with exactly this CA's private key."
                    : $"Proof-of-possession failed (IH400053): the verification certificate was signed by '{verification.Issuer}', not by the key of '{ca.Subject}' (the certificate being verified). Sign it with exactly this CA.");
            }

            var now = ctx.Time.GetUtcNow();
            var notBefore = new DateTimeOffset(verification.NotBefore.ToUniversalTime());
            var notAfter = new DateTimeOffset(verification.NotAfter.ToUniversalTime());
            if (now < notBefore - TimeSpan.FromMinutes(5) || now > notAfter)
            {
                throw new ArmErrorException(400, "InvalidVerificationCertificate",
                    $"The verification certificate is valid from {ArmRequests.Rfc1123(notBefore)} to {ArmRequests.Rfc1123(notAfter)}, not now; issue a new one.");
            }

            var updated = existing with { IsVerified = true, VerificationCode = null, Etag = EmulatorContext.NewEtag(), Updated = now };
            tx.Put(ctx.Store.DpsCertificates, ArmKeys.DpsCertificate(dps.Name, existing.Name), updated);
            return updated;
        }).ConfigureAwait(false);
        return Results.Json(Describe(dps, entity));
    }
}
