using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.ProofOfPossession;

/// <summary>
/// Step 7 by hand for an imported CA whose key stays outside (openssl signs, using the commands the portal shows),
/// "verified on upload", and the verification certificate download after either kind of proof. Against the
/// embedded emulator's DPS.
/// </summary>
public sealed class ManualProofTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    /// <summary>A setup with a DPS and an openssl-made root imported without its key, uploaded unverified.</summary>
    private async Task<(ClaimsPrincipal Op, int SetupId)> UploadedExternalRootAsync(ExternalCa ca, string name, bool verifiedOnUpload = false)
    {
        await factory.CreateUserAsync($"{name}-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync($"{name}-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, name)).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", $"{name}-dps", "eastus")).Succeeded);
        ca.Root($"{name}-root");
        Assert.True((await wizard.CaImport.ImportCaAsync(op, id, new CaImportRequest(ca.Bytes($"{name}-root.pem")))).Succeeded);
        var uploaded = await wizard.Upload.UploadCaAsync(op, id, verifiedOnUpload);
        Assert.True(uploaded.Succeeded, uploaded.Error?.Message);
        Assert.Equal(verifiedOnUpload, uploaded.Value!.IsVerified);
        return (op, id);
    }

    /// <summary>Each call is a fresh scope, like a new circuit after the browser was closed.</summary>
    private async Task<T> WithWizardAsync<T>(Func<SetupSlices, Task<T>> use)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await use(new SetupSlices(scope.ServiceProvider));
    }

    [Fact]
    public async Task The_shown_openssl_commands_run_literally_make_a_certificate_that_verifies_the_external_CA()
    {
        using var ca = new ExternalCa();
        var (op, id) = await UploadedExternalRootAsync(ca, "manual");

        var before = await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id));
        Assert.True(before.Succeeded, before.Error?.Message);
        Assert.False(before.Value!.IsVerified);
        Assert.False(before.Value.HasKey);
        Assert.Equal(VerificationCodeState.None, before.Value.CodeState);
        Assert.Null(before.Value.OpenSslCommands);
        Assert.False((await WithWizardAsync(w => w.OneClickProof.VerifyCaAsync(op, id))).Succeeded); // no key: one click is not possible

        var generated = await WithWizardAsync(w => w.ManualProof.GenerateVerificationCodeAsync(op, id));
        Assert.True(generated.Succeeded, generated.Error?.Message);
        var code = generated.Value!.Code!;
        Assert.Equal(VerificationCodeState.Current, generated.Value.CodeState);

        // Closing the browser loses nothing: a new circuit reads the same code back.
        var reopened = (await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id))).Value!;
        Assert.Equal(code, reopened.Code);
        Assert.Equal(VerificationCodeState.Current, reopened.CodeState);
        Assert.Equal("manual-op", reopened.CodeGeneratedBy);
        Assert.DoesNotContain("etag", reopened.OpenSslCommands!, StringComparison.OrdinalIgnoreCase);

        // The user downloads the CA certificate under the name the commands use and points CA_KEY at their key.
        var download = (await WithWizardAsync(w => w.CaDownloads.DownloadCertificateAsync(op, id, reopened.CertificateId, der: false))).Value!;
        Assert.Contains($"CA_CERT={download.FileName} ", reopened.OpenSslCommands, StringComparison.Ordinal);
        File.WriteAllBytes(ca.PathOf(download.FileName), download.Content);
        File.Copy(ca.PathOf("manual-root.key.pem"), ca.PathOf("ca.key.pem"));
        ca.RunScript(reopened.OpenSslCommands!);
        Assert.Contains($"CN = {code}", ca.Run("x509", "-in", VerificationCommands.OutputFile, "-noout", "-subject"), StringComparison.Ordinal);

        var submitted = await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest(ca.Bytes(VerificationCommands.OutputFile))));
        Assert.True(submitted.Succeeded, submitted.Error?.Message);
        Assert.True(submitted.Value!.IsVerified);
        Assert.True(submitted.Value.HasVerificationCertificate);

        // The DPS itself says verified, and so do the steps.
        var setup = await factory.WithDbAsync(db => db.Setups.AsNoTracking().SingleAsync(s => s.Id == id));
        var live = await factory.Services.GetRequiredService<CheeseCave.Portal.Targets.ProvisioningConnectionFactory>().CreateArmClient(op)
            .GetCertificateAsync(setup.ResourceGroup!, setup.DpsName!, submitted.Value.DpsCertificateName);
        Assert.True(live!.IsVerified);
        var view = (await WithWizardAsync(w => w.Setups.GetAsync(op, id))).Value!;
        Assert.Equal(StepState.Done, view.StatusOf(7).State);
        Assert.Equal(StepState.Ready, view.StatusOf(8).State);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == CaImportAuditActions.VerificationSubmitted && a.Outcome == AuditOutcomes.Succeeded && a.Actor == "manual-op")));

        // The verification certificate stays downloadable (Viewer and above; anonymous users are sent to sign in).
        await factory.CreateUserAsync("manual-viewer", PortalRoles.Viewer);
        using var viewer = await factory.SignedInClientAsync("manual-viewer");
        using var pem = await viewer.GetAsync(new Uri($"/setups/{id}/certificates/{reopened.CertificateId}/verification.pem", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, pem.StatusCode);
        using var fromPortal = X509Certificate2.CreateFromPem(await pem.Content.ReadAsStringAsync());
        using var made = X509Certificate2.CreateFromPem(ca.Text(VerificationCommands.OutputFile));
        Assert.Equal(made.RawData, fromPortal.RawData);
        using var der = await viewer.GetAsync(new Uri($"/setups/{id}/certificates/{reopened.CertificateId}/verification.cer", UriKind.Relative));
        Assert.Equal(made.RawData, await der.Content.ReadAsByteArrayAsync());
        using var anonymous = factory.CreatePortalClient();
        using var refused = await anonymous.GetAsync(new Uri($"/setups/{id}/certificates/{reopened.CertificateId}/verification.pem", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
    }

    [Fact]
    public async Task A_wrong_name_or_a_different_signer_is_refused_before_anything_is_sent()
    {
        using var ca = new ExternalCa();
        var (op, id) = await UploadedExternalRootAsync(ca, "refuse");
        var code = (await WithWizardAsync(w => w.ManualProof.GenerateVerificationCodeAsync(op, id))).Value!.Code!;

        // CN is not the code (an old or mistyped code).
        ca.Signed("wrong-cn", "refuse-root", extensions: "v3_leaf", commonName: code[..^1]);
        var wrongName = await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest(ca.Bytes("wrong-cn.pem"))));
        Assert.Contains($"but the current verification code is '{code}'", wrongName.Error!.Message, StringComparison.Ordinal);

        // The right CN, signed by another CA.
        ca.Root("impostor");
        ca.Signed("wrong-signer", "impostor", extensions: "v3_leaf", commonName: code);
        var wrongSigner = await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest(ca.Bytes("wrong-signer.pem"))));
        Assert.Contains("signed by a different CA", wrongSigner.Error!.Message, StringComparison.Ordinal);

        // Not a certificate, and a file carrying a private key.
        Assert.Contains("not a readable certificate", (await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest("garbage"u8.ToArray())))).Error!.Message, StringComparison.Ordinal);
        var withKey = File.ReadAllBytes(ca.PathOf("wrong-signer.pem")).Concat(File.ReadAllBytes(ca.PathOf("wrong-signer.key.pem"))).ToArray();
        Assert.Contains("also holds a private key", (await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest(withKey)))).Error!.Message, StringComparison.Ordinal);

        // Nothing reached the DPS: it is still unverified with the same code (a refused verify would not leave it so on
        // every service), and the audit records each refusal.
        var proof = (await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id))).Value!;
        Assert.False(proof.IsVerified);
        Assert.Equal(code, proof.Code);
        Assert.Equal(4, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == CaImportAuditActions.VerificationSubmitted && a.Actor == "refuse-op" && a.Outcome == AuditOutcomes.Failed)));

        // A new code replaces the old one; a certificate for the old code is then refused as a wrong name.
        ca.Signed("old-code", "refuse-root", extensions: "v3_leaf", commonName: code);
        var newCode = (await WithWizardAsync(w => w.ManualProof.GenerateVerificationCodeAsync(op, id))).Value!.Code!;
        Assert.NotEqual(code, newCode);
        Assert.Contains($"'{newCode}'", (await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest(ca.Bytes("old-code.pem"))))).Error!.Message, StringComparison.Ordinal);

        // Uploading the CA again changes it on the DPS: the stored code no longer counts and the page asks for a new one.
        Assert.True((await WithWizardAsync(w => w.Upload.UploadCaAsync(op, id))).Succeeded);
        var replaced = (await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id))).Value!;
        Assert.Equal(VerificationCodeState.Replaced, replaced.CodeState);
        Assert.Null(replaced.Code);
        ca.Signed("stale", "refuse-root", extensions: "v3_leaf", commonName: newCode);
        Assert.Contains("was replaced", (await WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, id, new ManualProofRequest(ca.Bytes("stale.pem"))))).Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verified_on_upload_is_an_explicit_choice_reflected_from_the_DPS()
    {
        using var ca = new ExternalCa();
        var (op, id) = await UploadedExternalRootAsync(ca, "onupload", verifiedOnUpload: true);

        var proof = (await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id))).Value!;
        Assert.True(proof.IsVerified);
        Assert.False(proof.HasVerificationCertificate);
        var view = (await WithWizardAsync(w => w.Setups.GetAsync(op, id))).Value!;
        Assert.Equal(StepState.Done, view.StatusOf(7).State);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == AuditActions.SetupCaUploaded && a.Actor == "onupload-op" && a.Detail!.Contains("marked verified on upload"))));
        Assert.Contains("already verified", (await WithWizardAsync(w => w.ManualProof.GenerateVerificationCodeAsync(op, id))).Error!.Message, StringComparison.Ordinal);

        // The database follows the DPS: a re-upload without the choice makes it unverified again, and the live read says so.
        Assert.True((await WithWizardAsync(w => w.Upload.UploadCaAsync(op, id))).Succeeded);
        Assert.False((await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id))).Value!.IsVerified);
        Assert.False(await factory.WithDbAsync(db => db.SetupCertificates.AnyAsync(c => c.SetupId == id && c.IsVerified)));
    }

    [Fact]
    public async Task The_one_click_proof_keeps_its_verification_certificate_for_download()
    {
        await factory.CreateUserAsync("oneclick-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("oneclick-op");
        int id;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            id = await SetupSteps.VerifiedSetupAsync(new SetupSlices(scope.ServiceProvider), op, "oneclick");
        }

        var proof = (await WithWizardAsync(w => w.ManualProof.GetProofAsync(op, id))).Value!;
        Assert.True(proof.IsVerified);
        Assert.True(proof.HasVerificationCertificate);
        var file = (await WithWizardAsync(w => w.VerificationDownloads.DownloadVerificationCertificateAsync(op, id, proof.CertificateId, der: false))).Value!;
        var root = (await WithWizardAsync(w => w.Setups.GetAsync(op, id))).Value!.Root!;
        using var verification = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(file.Content));
        using var rootX509 = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString((await WithWizardAsync(w => w.CaDownloads.DownloadCertificateAsync(op, id, root.Id, der: false))).Value!.Content));
        Assert.True(CheeseCave.Pki.SignatureVerifier.IsSignedBy(verification, rootX509));
        Assert.Equal("oneclick-root-verification.pem", file.FileName);

        // Before any proof there is nothing to download.
        Assert.False((await WithWizardAsync(w => w.VerificationDownloads.DownloadVerificationCertificateAsync(op, id, proof.CertificateId + 1000, der: false))).Succeeded);
    }
}
