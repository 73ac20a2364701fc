using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>The new CA imported (made with the system openssl) instead of generated: with its key, and without it.</summary>
public sealed class RolloverImportTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_new_ca_imported_without_its_key_is_proven_by_hand_with_openssl_and_the_re_issue_is_confirmed_as_done_elsewhere()
    {
        using var ca = new ExternalCa();
        await factory.CreateUserAsync("ri-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("ri-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "ricave", "ricave-001");
        var oldRootId = (await driver.Wizard.Setups.GetAsync(op, id)).Value!.Root!.Id;
        var oldRoot = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.Id == oldRootId));

        // The CA it replaces, and garbage, are refused with one sentence; nothing starts.
        RolloverDriver.Refused(await driver.Import.ImportNewCaAsync(op, id, new CaImportRequest(Encoding.ASCII.GetBytes(oldRoot.Pem)), RolloverGroupMode.SwapInGroup, null), "already one of this setup's CAs");
        RolloverDriver.Refused(await driver.Import.ImportNewCaAsync(op, id, new CaImportRequest([1, 2, 3]), RolloverGroupMode.SwapInGroup, null), "could not be read");
        Assert.Null((await driver.Reader.GetRolloverAsync(op, id)).Value!.Rollover);

        ca.Root("ricave-external-2027");
        var imported = await driver.Import.ImportNewCaAsync(op, id, new CaImportRequest(ca.Bytes("ricave-external-2027.pem")), RolloverGroupMode.SwapInGroup, null);
        RolloverDriver.Ok(imported);
        Assert.False(imported.Value!.HasKey);
        var view = await driver.OpenAsync(op, id);
        Assert.True(view.NewCa.IsImported);
        Assert.False(view.NewCa.HasKey);
        RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));
        RolloverDriver.Refused(await driver.Ca.ProveNewCaAsync(op, id), "does not hold");

        // By hand: a code, a wrong certificate refused, then the shown commands run literally with openssl.
        RolloverDriver.Refused(await driver.Proof.SubmitVerificationCertificateAsync(op, id, ca.Bytes("ricave-external-2027.pem")), "no verification code");
        var code = await driver.Proof.GenerateVerificationCodeAsync(op, id);
        RolloverDriver.Ok(code);
        RolloverDriver.Refused(await driver.Proof.SubmitVerificationCertificateAsync(op, id, ca.Bytes("ricave-external-2027.pem")), "common name");
        var newRoot = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.Id == view.NewCa.RootId));
        Assert.Equal("ricave-external-2027", SetupCertificates.FileNameFor(newRoot)); // the commands name the file as the download does
        File.Copy(ca.PathOf("ricave-external-2027.key.pem"), ca.PathOf("ca.key.pem"));
        ca.RunScript(code.Value!.Commands!);
        RolloverDriver.Ok(await driver.Proof.SubmitVerificationCertificateAsync(op, id, ca.Bytes(VerificationCommands.OutputFile)));
        Assert.True((await driver.OpenAsync(op, id)).NewCa.IsVerified);

        RolloverDriver.Ok(await driver.Groups.TrustNewCaAsync(op, id));
        RolloverDriver.Refused(await driver.Reissue.ReissueDevicesAsync(op, id), "imported without it");
        RolloverDriver.Ok(await driver.Reissue.ConfirmReissuedElsewhereAsync(op, id));
        Assert.Equal(RolloverStage.Reissued, (await driver.OpenAsync(op, id)).Stage);
        RolloverDriver.Ok(await driver.Groups.RetireOldCaAsync(op, id));
        var group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal((await driver.Reader.GetRolloverAsync(op, id)).Value!.LastFinished!.NewCa.DpsCertificateName, group.PrimaryCa);
        Assert.Null(group.SecondaryCa);
    }

    [Fact]
    public async Task A_new_intermediate_imported_with_its_key_signs_the_re_issued_devices_which_register()
    {
        using var ca = new ExternalCa();
        await factory.CreateUserAsync("rw-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rw-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "rwcave", "rwcave-001");
        var old = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == id));

        ca.Root("rwcave-root-2027");
        ca.Signed("rwcave-issuing-2027", "rwcave-root-2027");
        var bundle = Encoding.ASCII.GetBytes(ca.Text("rwcave-issuing-2027.pem") + ca.Text("rwcave-root-2027.pem"));
        var imported = await driver.Import.ImportNewCaAsync(op, id, new CaImportRequest(bundle) { PrivateKeyPem = ca.Bytes("rwcave-issuing-2027.key.pem") },
            RolloverGroupMode.NewGroup, "rwcave-devices-2027");
        RolloverDriver.Ok(imported);
        Assert.True(imported.Value!.HasKey);
        var view = await driver.OpenAsync(op, id);
        Assert.Equal("CN=rwcave-issuing-2027", view.NewCa.IssuerSubject);
        Assert.True(view.NewCa.HasKey);
        Assert.False(view.NewCa.RootHasKey);

        // The root's key stays outside: possession is proven by hand, the devices are signed by the imported intermediate.
        RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));
        var code = await driver.Proof.GenerateVerificationCodeAsync(op, id);
        var newRoot = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.Id == view.NewCa.RootId));
        Assert.Equal("rwcave-root-2027", SetupCertificates.FileNameFor(newRoot)); // the commands name the file as the download does
        File.Copy(ca.PathOf("rwcave-root-2027.key.pem"), ca.PathOf("ca.key.pem"));
        ca.RunScript(code.Value!.Commands!);
        RolloverDriver.Ok(await driver.Proof.SubmitVerificationCertificateAsync(op, id, ca.Bytes(VerificationCommands.OutputFile)));
        RolloverDriver.Ok(await driver.Groups.TrustNewCaAsync(op, id));
        RolloverDriver.Ok(await driver.Reissue.ReissueDevicesAsync(op, id));
        var successor = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.RenewsDeviceId == old.Id));
        Assert.Equal("CN=rwcave-issuing-2027", successor.Issuer);
        Assert.True((await driver.RegisterAsync(op, id, successor.Id)).Assigned);
        RolloverDriver.Ok(await driver.Groups.RetireOldCaAsync(op, id));
        Assert.False((await driver.RegisterAsync(op, id, old.Id)).Assigned);
        Assert.True((await driver.RegisterAsync(op, id, successor.Id)).Assigned);
    }
}
