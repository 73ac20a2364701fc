using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

public static class ProofOfPossessionFeature
{
    public static IServiceCollection AddProofOfPossessionStep(this IServiceCollection services) =>
        services.AddSingleton<SetupProofStore>()
            .AddSingleton<ProofState>()
            .AddSingleton<VerificationCheck>()
            .AddScoped<OneClickProofHandler>()
            .AddScoped<ManualProofHandler>()
            .AddScoped<VerificationDownloads>()
            .AddApprovalHandler<ProveCaPayload, ProveCaApproval>()
            .AddApprovalHandler<ManualProofPayload, ManualProofApproval>();

    /// <summary>/setups/{id}/certificates/{certificateId}/verification.pem | .cer: the certificate that proved possession (public, audited).</summary>
    public static IEndpointRouteBuilder MapProofOfPossessionEndpoints(this IEndpointRouteBuilder app)
    {
        var certificates = app.MapGroup("/setups/{setupId:int}/certificates").RequireAuthorization(PortalPolicies.RequireViewer);
        certificates.MapGet("/{certificateId:int}/verification.pem", async (int setupId, int certificateId, HttpContext context, VerificationDownloads downloads, CancellationToken cancellationToken) =>
            FileResults.From(await downloads.DownloadVerificationCertificateAsync(context.User, setupId, certificateId, der: false, cancellationToken).ConfigureAwait(false), context));
        certificates.MapGet("/{certificateId:int}/verification.cer", async (int setupId, int certificateId, HttpContext context, VerificationDownloads downloads, CancellationToken cancellationToken) =>
            FileResults.From(await downloads.DownloadVerificationCertificateAsync(context.User, setupId, certificateId, der: true, cancellationToken).ConfigureAwait(false), context));
        return app;
    }
}
