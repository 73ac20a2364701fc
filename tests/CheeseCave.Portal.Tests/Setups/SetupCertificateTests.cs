using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using CheeseCave.Portal.Auditing;

using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
using CheeseCave.Portal.Tests.Infrastructure;
namespace CheeseCave.Portal.Tests.Setups;

/// <summary>Step 5: the CA is generated in-process, its keys are protected, and certificates download from an authorized endpoint.</summary>
public sealed class SetupCertificateTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Generating_a_root_and_intermediate_stores_public_certificates_and_protected_keys_only()
    {
        await factory.CreateUserAsync("ca-op", PortalRoles.Operator);
        await factory.CreateUserAsync("ca-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("ca-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, "CA cave")).Value!.Id;

        Assert.True((await wizard.CaGeneration.GenerateCaAsync(await factory.PrincipalForAsync("ca-viewer"), id, "Nope Root", null, ProfilePreset.Recommended)).Error!.Denied);

        var generated = await wizard.CaGeneration.GenerateCaAsync(op, id, "CA cave Root", "CA cave Intermediate", ProfilePreset.Recommended);
        Assert.True(generated.Succeeded, generated.Error?.Message);
        Assert.False((await wizard.CaGeneration.GenerateCaAsync(op, id, "Second Root", null, ProfilePreset.Recommended)).Succeeded);

        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal([SetupCertificateKind.Root, SetupCertificateKind.Intermediate], view.Certificates.Select(c => c.Kind));
        Assert.All(view.Certificates, c => Assert.True(c.HasKey));
        Assert.Equal("CA cave Root", view.Root!.Description.CommonName);
        Assert.True(view.Root.Description.IsCa);
        Assert.Equal(StepState.Done, view.StatusOf(5).State);

        var stored = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == id).ToListAsync());
        Assert.All(stored, c => Assert.DoesNotContain("PRIVATE KEY", c.Pem, StringComparison.Ordinal));
        var intermediate = X509Certificate2.CreateFromPem(stored.Single(c => c.Kind == SetupCertificateKind.Intermediate).Pem);
        Assert.Equal(stored.Single(c => c.Kind == SetupCertificateKind.Root).Subject, intermediate.Issuer);
        foreach (var keyId in stored.Select(c => c.KeyId!))
        {
            var key = await factory.WithDbAsync(db => db.ProtectedKeys.AsNoTracking().SingleAsync(k => k.KeyId == keyId));
            Assert.DoesNotContain("PRIVATE KEY", System.Text.Encoding.ASCII.GetString(key.ProtectedBytes), StringComparison.Ordinal);
        }

        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "ca-op" && a.Action == AuditActions.SetupCaGenerated && a.Outcome == AuditOutcomes.Succeeded)));
    }

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

    [Fact]
    public async Task The_root_ca_is_uploaded_and_verified_with_one_click_against_the_emulator()
    {
        await factory.CreateUserAsync("pop-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("pop-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, "PoP cave")).Value!.Id;
        Assert.False((await wizard.Upload.UploadCaAsync(op, id)).Succeeded); // no DPS, no CA yet
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "pop-dps", "eastus")).Succeeded);
        Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, "PoP Root", null, ProfilePreset.Recommended)).Succeeded);
        Assert.False((await wizard.OneClickProof.VerifyCaAsync(op, id)).Succeeded); // not uploaded yet

        var uploaded = await wizard.Upload.UploadCaAsync(op, id);
        Assert.True(uploaded.Succeeded, uploaded.Error?.Message);
        Assert.False(uploaded.Value!.IsVerified);
        Assert.Equal("pop-root", uploaded.Value.DpsCertificateName);

        var steps = new List<string>();
        var verified = await wizard.OneClickProof.VerifyCaAsync(op, id, new InlineProgress(steps));
        Assert.True(verified.Succeeded, verified.Error?.Message);
        Assert.True(verified.Value!.IsVerified);
        Assert.Equal(3, steps.Count);

        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(StepState.Done, view.StatusOf(6).State);
        Assert.Equal(StepState.Done, view.StatusOf(7).State);
        Assert.Equal(8, view.CurrentStep);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "pop-op" && a.Action == AuditActions.SetupCaVerified && a.Outcome == AuditOutcomes.Succeeded)));
    }

    private sealed class InlineProgress(List<string> sink) : IProgress<string>
    {
        public void Report(string value) => sink.Add(value);
    }
}
