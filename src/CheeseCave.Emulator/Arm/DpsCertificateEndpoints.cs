using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// CA certificates of a DPS (docs/azure-wire.md §2) with the proof-of-possession flow: upload, generate a verification
/// code, verify a certificate whose CN is that code and which this CA's key signed. The routes parse and render;
/// <see cref="DpsCertificateStore"/> and <see cref="ProofOfPossession"/> hold the rules.
/// </summary>
internal static class DpsCertificateEndpoints
{
    public static WebApplication MapDpsCertificateEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var certificates = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/provisioningServices/{provisioningServiceName}/certificates")
            .AddEndpointFilter(ArmRequests.DpsFilter);
        certificates.MapGet(string.Empty, (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        {
            var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var items = DpsCertificateStore.OfService(ctx, dps).OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Select(c => (JsonNode)DpsCertificateJson.Describe(dps, c));
            return Results.Json(new JsonObject { ["value"] = new JsonArray([.. items]) });
        });
        certificates.MapPut("/{certificateName}", PutAsync);
        certificates.MapGet("/{certificateName}", (string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, EmulatorContext ctx) =>
        {
            var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            return Results.Json(DpsCertificateJson.Describe(dps, DpsCertificateStore.Require(ctx, dps, certificateName)));
        });
        certificates.MapDelete("/{certificateName}", DeleteAsync);
        certificates.MapPost("/{certificateName}/generateVerificationCode", GenerateVerificationCodeAsync);
        certificates.MapPost("/{certificateName}/verify", VerifyAsync);
        return app;
    }

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        DpsCertificateStore.RequireValidName(certificateName);
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

        var entity = await DpsCertificateStore.PutAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName, certificateName, der, isVerified, IfMatch.Of(request)).ConfigureAwait(false);
        return Results.Json(DpsCertificateJson.Describe(dps, entity));
    }

    /// <summary>A certificate that is already gone answers 204.</summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var deleted = await DpsCertificateStore.DeleteAsync(ctx, dps, certificateName, IfMatch.Of(request)).ConfigureAwait(false);
        return deleted ? Results.Ok() : Results.NoContent();
    }

    private static async Task<IResult> GenerateVerificationCodeAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var (entity, code) = await DpsCertificateStore.GenerateVerificationCodeAsync(ctx, dps, certificateName, IfMatch.Of(request)).ConfigureAwait(false);
        return Results.Json(DpsCertificateJson.Describe(dps, entity, code));
    }

    private static async Task<IResult> VerifyAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, string certificateName, HttpRequest request, EmulatorContext ctx)
    {
        var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var properties = ArmRequests.OptionalObject(body, "properties", "properties");
        var text = ArmRequests.OptionalString(body, "certificate", "certificate") ?? ArmRequests.OptionalString(properties, "certificate", "properties.certificate");
        var entity = await DpsCertificateStore.VerifyAsync(ctx, dps, certificateName, text, IfMatch.Of(request)).ConfigureAwait(false);
        return Results.Json(DpsCertificateJson.Describe(dps, entity));
    }
}
