using System.Security.Claims;
using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: steps 5-7 and 9 for imported CAs, rendered with the real wizard service of a running portal.</summary>
public sealed class ImportedCaStepsTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    /// <summary>The antiforgery token the import form embeds; the real provider needs an HTTP request.</summary>
    private sealed class FixedAntiforgeryState : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken GetAntiforgeryToken() => new("bunit-token", "__RequestVerificationToken");
    }

    private BunitContext NewContext(AsyncServiceScope scope)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        new SetupSlices(scope.ServiceProvider).RegisterIn(ctx.Services);
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<CaImportOutcomes>());
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<SetupOperations>()); // long actions run in the portal host
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<TimeProvider>());
        ctx.Services.AddFallbackServiceProvider(scope.ServiceProvider); // the steps' approval banners
        ctx.Services.AddSingleton<AntiforgeryStateProvider, FixedAntiforgeryState>();
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    private async Task<(ClaimsPrincipal Op, ClaimsPrincipal Viewer, int SetupId)> ExternalRootSetupAsync(ExternalCa ca, string name, bool upload)
    {
        await factory.CreateUserAsync($"{name}-op", PortalRoles.Operator);
        await factory.CreateUserAsync($"{name}-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync($"{name}-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, name)).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", $"{name}-dps", "eastus")).Succeeded);
        ca.Root($"{name}-root");
        Assert.True((await wizard.CaImport.ImportCaAsync(op, id, new CaImportRequest(ca.Bytes($"{name}-root.pem")))).Succeeded);
        if (upload)
        {
            Assert.True((await wizard.Upload.UploadCaAsync(op, id)).Succeeded);
        }

        return (op, await factory.PrincipalForAsync($"{name}-viewer"), id);
    }

    [Fact]
    public async Task The_CA_step_offers_generate_or_import_and_shows_an_imported_CA_without_key_with_its_outcome()
    {
        await factory.CreateUserAsync("bca-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("bca-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, "bca")).Value!.Id;
        await using var ctx = NewContext(scope);

        var view1 = (await wizard.Setups.GetAsync(op, id)).Value!;
        var empty = ctx.Render<CaStep>(p => p.Add(s => s.View, view1).Add(s => s.User, op));
        Assert.NotEmpty(empty.FindAll("#root-subject"));
        await empty.InvokeAsync(() => empty.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Import an existing CA", StringComparison.Ordinal)).Click());
        var form = empty.Find("form[data-import-form=ca]");
        Assert.Equal($"setups/{id}/ca/import", form.GetAttribute("action"));
        Assert.Equal("multipart/form-data", form.GetAttribute("enctype"));
        Assert.Equal("bunit-token", form.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value"));
        // Secrets are plain form fields posted to the endpoint, never bound to the circuit.
        Assert.All(form.QuerySelectorAll("input[name=password], input[name=keyPassphrase]"), i => Assert.Equal("password", i.GetAttribute("type")));
        Assert.All(form.QuerySelectorAll("textarea"), t => Assert.Equal(CaImportLimits.MaxPasteChars.ToString(System.Globalization.CultureInfo.InvariantCulture), t.GetAttribute("maxlength")));

        // Back from the POST: the page shows the outcome kept under the token, with the linter's warnings.
        using var ca = new ExternalCa();
        ca.Root("bca-root");
        var imported = await wizard.CaImport.ImportCaAsync(op, id, new CaImportRequest(ca.Bytes("bca-root.pem")));
        Assert.True(imported.Succeeded, imported.Error?.Message);
        var token = factory.Services.GetRequiredService<CaImportOutcomes>().Put("bca-op", id, imported);
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo($"/setups/{id}/ca?import={token}");
        var view2 = (await wizard.Setups.GetAsync(op, id)).Value!;
        var after = ctx.Render<CaStep>(p => p.Add(s => s.View, view2).Add(s => s.User, op));
        Assert.Contains("without a private key", after.Find("[data-import-succeeded]").TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(after.FindAll("[data-no-key]"));
        Assert.Contains("bca-root", after.Find("[data-certificate-details]").TextContent, StringComparison.Ordinal);
        Assert.Contains(imported.Value!.Certificate.ThumbprintSha1, after.Find("[data-thumbprint]").TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(after.FindAll("[data-add-intermediate]"));
        Assert.Equal($"setups/{id}/certificates/{imported.Value.Certificate.Id}.pem", after.Find("[data-download=pem]").GetAttribute("href"));
    }

    [Fact]
    public async Task The_upload_step_offers_verified_on_upload_off_by_default_and_the_devices_step_says_the_key_is_not_held()
    {
        using var ca = new ExternalCa();
        var (op, _, id) = await ExternalRootSetupAsync(ca, "bup", upload: false);
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        await using var ctx = NewContext(scope);

        var view3 = (await wizard.Setups.GetAsync(op, id)).Value!;
        var upload = ctx.Render<UploadStep>(p => p.Add(s => s.View, view3).Add(s => s.User, op));
        var box = upload.Find("[data-verified-on-upload] input[type=checkbox]");
        Assert.False(box.HasAttribute("checked"));
        Assert.Contains("use this only for a CA you control", upload.Find("[data-verified-on-upload-help]").TextContent, StringComparison.Ordinal);
        await upload.InvokeAsync(() => box.Change(true));
        await upload.InvokeAsync(() => upload.FindAll("button").Single(b => b.TextContent.Contains("Upload to DPS", StringComparison.Ordinal)).Click());
        upload.WaitForAssertion(() => Assert.Empty(upload.FindAll("[data-progress]")), TimeSpan.FromSeconds(20));
        var uploaded = (await wizard.Setups.GetAsync(op, id)).Value!;
        upload.Render(p => p.Add(s => s.View, uploaded));
        Assert.True(uploaded.Root!.IsVerified);
        upload.WaitForAssertion(() => Assert.Equal("true", upload.Find("[data-uploaded]").GetAttribute("data-verified-live")));

        var view4 = (await wizard.Setups.GetAsync(op, id)).Value!;
        var devices = ctx.Render<DevicesStep>(p => p.Add(s => s.View, view4).Add(s => s.User, op));
        Assert.Contains("does not hold the private key", devices.Find("[data-no-ca-key]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_verify_step_guides_a_manual_proof_and_refuses_a_wrong_certificate_on_the_page()
    {
        using var ca = new ExternalCa();
        var (op, viewer, id) = await ExternalRootSetupAsync(ca, "bver", upload: true);
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        await using var ctx = NewContext(scope);

        // A viewer sees that a code is needed but cannot request one.
        var view5 = (await wizard.Setups.GetAsync(viewer, id)).Value!;
        var readOnly = ctx.Render<VerifyStep>(p => p.Add(s => s.View, view5).Add(s => s.User, viewer));
        readOnly.WaitForAssertion(() => Assert.NotEmpty(readOnly.FindAll("[data-manual]")));
        Assert.Empty(readOnly.FindAll("[data-get-code]"));

        var changed = 0;
        var view6 = (await wizard.Setups.GetAsync(op, id)).Value!;
        var cut = ctx.Render<VerifyStep>(p => p.Add(s => s.View, view6).Add(s => s.User, op).Add(s => s.OnChanged, (int? _) => changed++));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-get-code]")));
        await cut.InvokeAsync(() => cut.Find("[data-get-code]").Click());
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#copy-verification-code")));
        var code = cut.Find("#copy-verification-code").GetAttribute("value")!;
        var commandsField = cut.Find("#copy-openssl-commands");
        var commands = commandsField.GetAttribute("value") ?? commandsField.TextContent;
        Assert.Contains($"/CN={code}\"", commands, StringComparison.Ordinal);
        Assert.DoesNotContain("etag", cut.Markup, StringComparison.OrdinalIgnoreCase);
        Assert.True(cut.Find("[data-submit-verification]").HasAttribute("disabled"));

        // A certificate for another name is refused on the page, with the current code named.
        ca.Signed("bver-wrong", "bver-root", extensions: "v3_leaf", commonName: "not-the-code");
        await cut.InvokeAsync(() => cut.Find("#verification-text").Change(ca.Text("bver-wrong.pem")));
        await cut.InvokeAsync(() => cut.Find("[data-submit-verification]").Click());
        cut.WaitForAssertion(() => Assert.Contains($"the current verification code is '{code}'", cut.Markup, StringComparison.Ordinal));
        Assert.Equal(0, changed);

        // The right one, made from the page's commands, verifies; the page then offers the verification certificate.
        var download = (await wizard.CaDownloads.DownloadCertificateAsync(op, id, (await wizard.Setups.GetAsync(op, id)).Value!.Root!.Id, der: false)).Value!;
        File.WriteAllBytes(ca.PathOf(download.FileName), download.Content);
        File.Copy(ca.PathOf("bver-root.key.pem"), ca.PathOf("ca.key.pem"));
        ca.RunScript(System.Net.WebUtility.HtmlDecode(commands));
        await cut.InvokeAsync(() => cut.Find("#verification-text").Change(ca.Text(VerificationCommands.OutputFile)));
        await cut.InvokeAsync(() => cut.Find("[data-submit-verification]").Click());
        cut.WaitForAssertion(() => Assert.Equal(1, changed));
        var verifiedView = (await wizard.Setups.GetAsync(op, id)).Value!;
        cut.Render(p => p.Add(s => s.View, verifiedView));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-verified]")));
        Assert.NotEmpty(cut.FindAll("[data-download=verification-pem]"));
    }
}
