using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.ProofOfPossession;

/// <summary>Steps 6-7: the root CA is uploaded to the DPS and verified with one click against the emulator.</summary>
[Collection(SetupCertificatesGroup.Name)]
public sealed class OneClickProofHandlerTests(PortalFactory factory)
{
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
