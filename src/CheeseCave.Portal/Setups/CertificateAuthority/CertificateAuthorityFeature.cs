using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

public static class CertificateAuthorityFeature
{
    public static IServiceCollection AddCertificateAuthorityStep(this IServiceCollection services) =>
        services.AddScoped<CaGenerationHandler>()
            .AddScoped<CaImportHandler>()
            .AddScoped<CaCertificateDownloads>()
            .AddSingleton<CaImportOutcomes>()
            .AddApprovalHandler<CreateCaPayload, CreateCaApproval>()
            .AddApprovalHandler<ImportCaPayload, ImportCaApproval>();

    /// <summary>
    /// /setups/{id}/certificates/{certificateId}.pem | .cer: the setup's CA certificates (public material only, Viewer and
    /// above, each download audited); and the step 5 import form POST (keys and passwords never travel over the circuit).
    /// </summary>
    public static IEndpointRouteBuilder MapCertificateAuthorityEndpoints(this IEndpointRouteBuilder app)
    {
        var certificates = app.MapGroup("/setups/{setupId:int}/certificates").RequireAuthorization(PortalPolicies.RequireViewer);
        certificates.MapGet("/{certificateId:int}.pem", async (int setupId, int certificateId, HttpContext context, CaCertificateDownloads downloads, CancellationToken cancellationToken) =>
            FileResults.From(await downloads.DownloadCertificateAsync(context.User, setupId, certificateId, der: false, cancellationToken).ConfigureAwait(false), context));
        certificates.MapGet("/{certificateId:int}.cer", async (int setupId, int certificateId, HttpContext context, CaCertificateDownloads downloads, CancellationToken cancellationToken) =>
            FileResults.From(await downloads.DownloadCertificateAsync(context.User, setupId, certificateId, der: true, cancellationToken).ConfigureAwait(false), context));
        CaImportEndpoint.Map(app);
        return app;
    }
}
