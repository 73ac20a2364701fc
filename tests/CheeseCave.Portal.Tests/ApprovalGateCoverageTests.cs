using CheeseCave.Pki;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests;

/// <summary>Which requests the gate catches when only some actions need approval (CheeseCave:Approvals:RequiredFor).</summary>
public sealed class ApprovalGateCoverageTests
{
    [Theory]
    [InlineData("UploadCa")]
    [InlineData("ProveCa")]
    public async Task Marking_a_CA_verified_on_upload_waits_for_approval_when_either_upload_or_proof_is_gated(string requiredFor)
    {
        await using var factory = new PortalFactory { Approvals = true, ApprovalsRequiredFor = [requiredFor] };
        await factory.CreateUserAsync("gate-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("gate-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = scope.ServiceProvider.GetRequiredService<SetupWizardService>();
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.CreateAsync(op, "gate cave")).Value!.Id;
        Assert.True((await wizard.CreateDpsAsync(op, id, "cheesecave-rg", "gate-dps", "eastus")).Succeeded);
        var ca = await wizard.GenerateCaAsync(op, id, "Gate Root", null, ProfilePreset.Recommended);
        Assert.True(ca.Succeeded && !ca.IsPending, ca.Error?.Message ?? "creating the CA should not be gated here");

        ApprovalTestPortal.Pending(await wizard.UploadCaAsync(op, id, verifiedOnUpload: true));
        var root = await factory.WithDbAsync(db => db.SetupCertificates.SingleAsync(c => c.SetupId == id));
        Assert.Null(root.DpsCertificateName);
        Assert.False(root.IsVerified);
    }
}
