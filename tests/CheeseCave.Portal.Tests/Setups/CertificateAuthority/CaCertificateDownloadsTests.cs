using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.CertificateAuthority;

/// <summary>Step 5: the CA's certificates download from an authorized endpoint, and each download is audited.</summary>
[Collection(SetupCertificatesGroup.Name)]
public sealed class CaCertificateDownloadsTests(PortalFactory factory)
{
    [Fact]
    public async Task Certificates_download_as_pem_and_der_for_viewers_and_each_download_is_audited()
    {
        await factory.CreateUserAsync("dl-op", PortalRoles.Operator);
        await factory.CreateUserAsync("dl-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("dl-op");
        int setupId;
        int rootId;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            setupId = (await wizard.Setups.CreateAsync(op, "Download cave")).Value!.Id;
            rootId = (await wizard.CaGeneration.GenerateCaAsync(op, setupId, "Download Root", null, ProfilePreset.Recommended)).Value!.Id;
        }

        using var anonymous = factory.CreatePortalClient();
        using var refused = await anonymous.GetAsync(new Uri($"/setups/{setupId}/certificates/{rootId}.pem", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);

        using var viewer = await factory.SignedInClientAsync("dl-viewer");
        using var pem = await viewer.GetAsync(new Uri($"/setups/{setupId}/certificates/{rootId}.pem", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, pem.StatusCode);
        var text = await pem.Content.ReadAsStringAsync();
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", text, StringComparison.Ordinal);
        Assert.Equal("download-root.pem", pem.Content.Headers.ContentDisposition?.FileName);

        using var der = await viewer.GetAsync(new Uri($"/setups/{setupId}/certificates/{rootId}.cer", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, der.StatusCode);
        var fromDer = X509CertificateLoader.LoadCertificate(await der.Content.ReadAsByteArrayAsync());
        Assert.Equal("CN=Download Root", fromDer.Subject);

        using var missing = await viewer.GetAsync(new Uri($"/setups/{setupId}/certificates/999999.pem", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var downloads = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().CountAsync(a => a.Actor == "dl-viewer" && a.Action == AuditActions.SetupCertificateDownloaded && a.Outcome == AuditOutcomes.Succeeded));
        Assert.Equal(2, downloads);
    }
}
