using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Approvals;

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
        var wizard = new SetupSlices(scope.ServiceProvider);
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, "gate cave")).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "gate-dps", "eastus")).Succeeded);
        var ca = await wizard.CaGeneration.GenerateCaAsync(op, id, "Gate Root", null, ProfilePreset.Recommended);
        Assert.True(ca.Succeeded && !ca.IsPending, ca.Error?.Message ?? "creating the CA should not be gated here");

        ApprovalTestPortal.Pending(await wizard.Upload.UploadCaAsync(op, id, verifiedOnUpload: true));
        var root = await factory.WithDbAsync(db => db.SetupCertificates.SingleAsync(c => c.SetupId == id));
        Assert.Null(root.DpsCertificateName);
        Assert.False(root.IsVerified);
    }

    [Fact]
    public async Task A_caller_who_gives_up_right_after_an_import_request_is_recorded_leaves_its_key_for_the_approvers()
    {
        var cancelOnRecord = new CancelWhenARequestIsSaved();
        await using var factory = new PortalFactory { Approvals = true };
        await using var portal = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.ConfigureDbContext<PortalDbContext>(o => o.AddInterceptors(cancelOnRecord))));
        // Everything through the intercepted host only (the plain one is never started).
        await using var scope = portal.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        foreach (var (name, role) in new[] { ("gate-import-op", PortalRoles.Operator), ("gate-import-approver", PortalRoles.Approver) })
        {
            var user = new PortalUser { UserName = name, CreatedAt = DateTimeOffset.UtcNow };
            Assert.True((await users.CreateAsync(user, TestPasswords.Default)).Succeeded);
            Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        }

        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var db = scope.ServiceProvider.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        using var ca = new ExternalCa();
        ca.Root("gate-import-root");

        var wizard = new SetupSlices(scope.ServiceProvider);
        var op = await signIn.CreateUserPrincipalAsync((await users.FindByNameAsync("gate-import-op"))!);
        var setupId = (await wizard.Setups.CreateAsync(op, "gate import cave")).Value!.Id;

        // The page is closed the moment the request has been saved.
        using var page = new CancellationTokenSource();
        cancelOnRecord.Cancel = page;
        var import = new CaImportRequest(ca.Bytes("gate-import-root.pem")) { PrivateKeyPem = ca.Bytes("gate-import-root.key.pem") };
        try
        {
            await wizard.CaImport.ImportCaAsync(op, setupId, import, page.Token);
        }
        catch (OperationCanceledException)
        {
            // The caller may see the cancellation; what matters is what stays behind.
        }

        Assert.True(page.IsCancellationRequested);
        var request = await Query(db, d => d.ApprovalRequests.AsNoTracking().SingleAsync(r => r.SetupId == setupId));
        Assert.Equal(ApprovalStatus.Pending, request.Status);
        var keyId = Assert.IsType<ImportCaPayload>(ApprovalPayload.FromJson(request.PayloadJson)).KeyId!;
        Assert.True(await Query(db, d => d.ProtectedKeys.AnyAsync(k => k.KeyId == keyId)), "the pending request's key was deleted");
        Assert.True(await Query(db, d => d.AuditEntries.AnyAsync(a => a.Action == ApprovalAuditActions.Requested && a.Actor == "gate-import-op")));

        // And the approval still works with it.
        var approver = await signIn.CreateUserPrincipalAsync((await users.FindByNameAsync("gate-import-approver"))!);
        var applied = await scope.ServiceProvider.GetRequiredService<ApprovalService>().ApproveAsync(approver, request.Id);
        Assert.True(applied.Value?.Status == ApprovalStatus.Applied, applied.Error?.Message ?? $"{applied.Value?.Status}: {applied.Value?.Error}");
        Assert.Equal(keyId, await Query(db, d => d.SetupCertificates.Where(c => c.SetupId == setupId).Select(c => c.KeyId).SingleAsync()));
    }

    private static async Task<T> Query<T>(IDbContextFactory<PortalDbContext> contexts, Func<PortalDbContext, Task<T>> query)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await query(db);
    }

    /// <summary>Cancels <see cref="Cancel"/> once an approval request has been written (as a closing page would, at the worst moment).</summary>
    private sealed class CancelWhenARequestIsSaved : SaveChangesInterceptor
    {
        private bool _saving;

        public CancellationTokenSource? Cancel { get; set; }

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            _saving = Cancel is not null && eventData.Context!.ChangeTracker.Entries<ApprovalRequest>().Any(e => e.State == EntityState.Added);
            return base.SavingChangesAsync(eventData, result, cancellationToken);
        }

        public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
        {
            if (_saving)
            {
                _saving = false;
                Cancel!.Cancel();
                Cancel = null;
            }

            return base.SavedChangesAsync(eventData, result, cancellationToken);
        }
    }
}
