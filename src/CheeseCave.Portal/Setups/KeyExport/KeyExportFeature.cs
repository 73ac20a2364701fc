using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.KeyExport;

public static class KeyExportFeature
{
    public static IServiceCollection AddKeyExport(this IServiceCollection services) =>
        services.AddScoped<KeyExportHandler>()
            .AddApprovalHandler<ExportPrivateKeyPayload, ExportPrivateKeyApproval>();

    /// <summary>
    /// /setups/{id}/key-exports/{downloadId}/{file}.key.pem: an exported CA key (encrypted PKCS#8), once, for the user
    /// it was exported for, within its window (410 after). The handler checks the role again and audits.
    /// </summary>
    public static IEndpointRouteBuilder MapKeyExportEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/setups/{setupId:int}/key-exports/{downloadId:regex(^[0-9a-f]{{32}}$)}/{fileName}", async (int setupId, string downloadId, string fileName, HttpContext context, KeyExportHandler exports, CancellationToken cancellationToken) =>
            FileResults.From(await exports.DownloadKeyExportAsync(context.User, setupId, downloadId, fileName, cancellationToken).ConfigureAwait(false), context, secret: true, notFound: StatusCodes.Status410Gone))
            .RequireAuthorization(PortalPolicies.RequireOperator);
        return app;
    }
}
