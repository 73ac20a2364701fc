using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Devices;

public static class DevicesFeature
{
    public static IServiceCollection AddDevicesStep(this IServiceCollection services) =>
        services.AddSingleton<DeviceKeyVault>()
            .AddScoped<DeviceIssuanceHandler>()
            .AddScoped<DeviceDownloadsHandler>()
            .AddApprovalHandler<IssueDevicesPayload, IssueDevicesApproval>();

    /// <summary>
    /// Device files: /setups/{id}/devices/{deviceId}/{name}.cert.pem | -chain.pem | .cer (Viewer) | .key.pem | .pfx
    /// (Operator, the batch's issuer only, in the download window: 410 after), and a batch as a ZIP. The handler checks
    /// the role again and audits.
    /// </summary>
    public static IEndpointRouteBuilder MapDeviceEndpoints(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup("/setups/{setupId:int}").RequireAuthorization(PortalPolicies.RequireViewer);
        devices.MapGet("/devices/{deviceId:int}/{fileName}", async (int setupId, int deviceId, string fileName, HttpContext context, DeviceDownloadsHandler downloads, CancellationToken cancellationToken) =>
        {
            DeviceFileKind? kind = fileName switch
            {
                _ when fileName.EndsWith(".cert.pem", StringComparison.OrdinalIgnoreCase) => DeviceFileKind.Certificate,
                _ when fileName.EndsWith("-chain.pem", StringComparison.OrdinalIgnoreCase) => DeviceFileKind.Chain,
                _ when fileName.EndsWith(".key.pem", StringComparison.OrdinalIgnoreCase) => DeviceFileKind.Key,
                _ when fileName.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) => DeviceFileKind.Pfx,
                _ when fileName.EndsWith(".cer", StringComparison.OrdinalIgnoreCase) => DeviceFileKind.Der,
                _ => null,
            };
            return kind is null
                ? Results.NotFound()
                : FileResults.From(await downloads.DownloadDeviceFileAsync(context.User, setupId, deviceId, kind.Value, cancellationToken).ConfigureAwait(false), context, secret: true);
        });
        devices.MapGet("/batches/{batchId:regex(^[0-9a-z-]{{1,64}}$)}.zip", async (int setupId, string batchId, HttpContext context, DeviceDownloadsHandler downloads, CancellationToken cancellationToken) =>
            FileResults.From(await downloads.DownloadBatchAsync(context.User, setupId, batchId, cancellationToken).ConfigureAwait(false), context, secret: true));
        return app;
    }
}
