using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DpsService;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Enrollment;

/// <summary>Step 8: the X.509 enrollment group, saved to and read back from the embedded emulator's DPS.</summary>
public sealed class EnrollmentHandlerTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_enrollment_group_is_created_updated_and_read_back_live()
    {
        await factory.CreateUserAsync("eg-op", PortalRoles.Operator);
        await factory.CreateUserAsync("eg-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("eg-op");
        var viewer = await factory.PrincipalForAsync("eg-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "egcave");
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(StepState.Ready, view.StatusOf(8).State);
        var ca = view.Root!.DpsCertificateName!;
        var hub = view.LinkedHubs.Single().HostName;

        var form = new EnrollmentGroupForm
        {
            GroupId = "egcave-devices",
            PrimaryCa = ca,
            Hubs = [hub],
            AllocationPolicy = AllocationPolicy.Static,
            Reprovision = ReprovisionChoice.ReassignAndReset,
            TagsJson = """{ "cave": "north" }""",
            DesiredJson = """{ "targetHumidity": 92 }""",
            IotEdge = false,
            Enabled = true,
        };
        Assert.False((await wizard.Enrollment.SaveEnrollmentGroupAsync(viewer, id, form)).Succeeded); // Viewer refused
        var saved = await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, form);
        Assert.True(saved.Succeeded, saved.Error?.Message);
        Assert.Equal("egcave-devices", saved.Value!.GroupId);

        var live = (await wizard.Enrollment.GetEnrollmentGroupAsync(viewer, id)).Value!;
        Assert.Equal(ca, live.PrimaryCa);
        Assert.Equal([hub], live.Hubs);
        Assert.Equal(AllocationPolicy.Static, live.AllocationPolicy);
        Assert.Equal(ReprovisionChoice.ReassignAndReset, live.Reprovision);
        Assert.Contains("north", live.TagsJson, StringComparison.Ordinal);
        Assert.Contains("92", live.DesiredJson, StringComparison.Ordinal);
        Assert.True(live.Enabled);

        // Update: the client reads the etag fresh; disabling and the IoT Edge flag come back.
        form.Enabled = false;
        form.IotEdge = true;
        form.AllocationPolicy = AllocationPolicy.Hashed;
        form.Hubs = [];
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, form)).Succeeded);
        live = (await wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.False(live.Enabled);
        Assert.True(live.IotEdge);

        view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(StepState.Done, view.StatusOf(8).State);
        Assert.Equal("egcave-devices", view.EnrollmentGroupId);
        Assert.Equal(9, view.CurrentStep);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "eg-op" && a.Action == AuditActions.SetupEnrollmentGroupSaved && a.Outcome == AuditOutcomes.Succeeded)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "eg-viewer" && a.Action == AuditActions.SetupEnrollmentGroupSaved && a.Outcome == AuditOutcomes.Denied)));
    }

    [Fact]
    public async Task Bad_group_ids_twin_json_cas_and_hubs_are_refused_with_a_clear_message()
    {
        await factory.CreateUserAsync("eg-bad-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("eg-bad-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "egbad");
        var ca = (await wizard.Setups.GetAsync(op, id)).Value!.Root!.DpsCertificateName!;

        EnrollmentGroupForm Form() => new() { GroupId = "egbad-devices", PrimaryCa = ca };

        var badId = await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "bad id!", PrimaryCa = ca });
        Assert.Contains("may contain only", badId.Error!.Message, StringComparison.Ordinal);

        var badTags = Form();
        badTags.TagsJson = """{ "cave": "north", }""";
        var tags = await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, badTags);
        Assert.Contains("tags is not valid JSON", tags.Error!.Message, StringComparison.Ordinal);

        var notObject = Form();
        notObject.DesiredJson = "[1, 2]";
        Assert.Contains("must be a JSON object", (await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, notObject)).Error!.Message, StringComparison.Ordinal);

        var unknownCa = Form();
        unknownCa.PrimaryCa = "someone-elses-ca";
        Assert.Contains("not a verified CA", (await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, unknownCa)).Error!.Message, StringComparison.Ordinal);

        var unknownHub = Form();
        unknownHub.Hubs = ["elsewhere.azure-devices.net"];
        Assert.Contains("Not linked", (await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, unknownHub)).Error!.Message, StringComparison.Ordinal);

        Assert.Null((await wizard.Setups.GetAsync(op, id)).Value!.EnrollmentGroupId);
        Assert.Equal(5, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Actor == "eg-bad-op" && a.Action == AuditActions.SetupEnrollmentGroupSaved && a.Outcome == AuditOutcomes.Failed)));
    }

    [Theory]
    [InlineData("cheese-caves", true)]
    [InlineData("Cave.North_1:a", true)]
    [InlineData("ends-with-dash-", true)]
    [InlineData("ends.with.dot.", false)]
    [InlineData("has space", false)]
    [InlineData("", false)]
    public void Group_id_rules(string id, bool valid) => Assert.Equal(valid, EnrollmentRules.CheckGroupId(id).IsValid);
}
