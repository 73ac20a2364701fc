using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Tests.Setups;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>The wizard's first steps, shared by the tests that start from a verified CA.</summary>
internal static class SetupSteps
{
    /// <summary>Steps 1-7 through the service: DPS, one linked hub, a root (+ intermediate) CA uploaded and verified.</summary>
    public static async Task<int> VerifiedSetupAsync(SetupSlices wizard, ClaimsPrincipal op, string name, bool intermediate = false)
    {
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, name)).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", $"{name}-dps", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.CreateHubAsync(op, id, $"{name}-hub", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.LinkHubAsync(op, id, $"{name}-hub", "iothubowner", 1, true)).Succeeded);
        Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, $"{name} Root", intermediate ? $"{name} Intermediate" : null, ProfilePreset.Recommended)).Succeeded);
        Assert.True((await wizard.Upload.UploadCaAsync(op, id)).Succeeded);
        var verified = await wizard.OneClickProof.VerifyCaAsync(op, id);
        Assert.True(verified.Succeeded, verified.Error?.Message);
        return id;
    }
}
