using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.CertificateAuthority;

/// <summary>Step 5: the CA is generated in-process and only its public certificates are stored; its keys are protected.</summary>
[Collection(SetupCertificatesGroup.Name)]
public sealed class CaGenerationHandlerTests(PortalFactory factory)
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
}
