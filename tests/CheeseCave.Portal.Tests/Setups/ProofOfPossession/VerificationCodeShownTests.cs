using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.ProofOfPossession;

/// <summary>
/// People following the Learn module look for the verification code DPS issued: after a one-click proof, step 7 and
/// the audit entry name it.
/// </summary>
public sealed class VerificationCodeShownTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_one_click_proof_names_the_code_DPS_issued_on_step_7_and_in_the_audit_entry()
    {
        await factory.CreateUserAsync("code-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("code-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var slices = new SetupSlices(scope.ServiceProvider) { PollInterval = TimeSpan.FromMilliseconds(50) };
        var id = (await slices.Setups.CreateAsync(op, "Code cave")).Value!.Id;
        Assert.True((await slices.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "code-cave-dps", "eastus")).Succeeded);
        Assert.True((await slices.CaGeneration.GenerateCaAsync(op, id, "Code Root", null, ProfilePreset.Recommended)).Succeeded);
        Assert.True((await slices.Upload.UploadCaAsync(op, id)).Succeeded);

        var before = await slices.ManualProof.GetProofAsync(op, id);
        Assert.Null(before.Value!.VerifiedWithCode); // nothing proved yet

        Assert.True((await slices.OneClickProof.VerifyCaAsync(op, id)).Succeeded);

        var proof = (await slices.ManualProof.GetProofAsync(op, id)).Value!;
        Assert.True(proof.IsVerified);
        var code = Assert.IsType<string>(proof.VerifiedWithCode);
        Assert.Matches("^[0-9A-F]{16,}$", code);
        var verified = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking()
            .SingleAsync(a => a.Actor == "code-op" && a.Action == AuditActions.SetupCaVerified && a.Outcome == AuditOutcomes.Succeeded));
        Assert.Contains($"verification code {code}", verified.Detail, StringComparison.Ordinal);
    }
}
