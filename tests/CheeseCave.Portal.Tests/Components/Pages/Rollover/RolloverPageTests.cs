using Bunit;
using CheeseCave.Portal.Components.Pages.Rollover;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Components.Wizards.Setups;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups.Rollover;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Components.Pages.Rollover;

/// <summary>bUnit: the rollover page with the real handlers and the portal's operations, against the embedded emulator.</summary>
public sealed class RolloverPageTests(PortalFactory factory) : IClassFixture<PortalFactory>, IAsyncDisposable
{
    private readonly StepHarness _harness = new(factory);

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task The_re_issue_goes_on_after_its_page_is_closed_and_a_reopened_page_shows_its_progress_then_its_password()
    {
        var (op, _) = await _harness.UsersAsync("rp-page");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "rppage", "rppage-001", "rppage-002");
        await driver.ToOverlapAsync(op, id, new RolloverStartForm { RootSubject = "rppage Root 2" });
        var auth = Task.FromResult(new AuthenticationState(op));

        // Another writer takes the database the moment the re-issue is claimed (the claim itself is a write), so the
        // re-issue waits at its first write: it is surely running while the page is closed and another one opens.
        await using var holder = new SqliteConnection(PortalDbContext.ConnectionStringFor(factory.DataDirectory));
        await holder.OpenAsync();
        SqliteTransaction? hold = null;
        var operations = factory.Services.GetRequiredService<SetupOperations>();
        void Hold(SetupOperationStatus status)
        {
            if (status.SetupId == id && status.Kind == SetupOperationKind.RolloverReissue && status.IsRunning && hold is null)
            {
                hold = holder.BeginTransaction(deferred: false);
            }
        }

        operations.Changed += Hold;
        await using (var first = _harness.NewContext(driver.Wizard))
        {
            var page = first.Render<RolloverPage>(p => p.Add(x => x.Id, id).AddCascadingValue(auth));
            page.WaitForAssertion(() => page.Find("[data-run-step='Reissue']"), TimeSpan.FromSeconds(30));
            await page.InvokeAsync(() => page.Find("[data-run-step='Reissue']").Click());
            page.WaitForAssertion(() => Assert.Equal("RolloverReissue", page.Find("[data-progress]").GetAttribute("data-operation")), TimeSpan.FromSeconds(30));
        }

        await using var second = _harness.NewContext(driver.Wizard);
        var reopened = second.Render<RolloverPage>(p => p.Add(x => x.Id, id).AddCascadingValue(auth));
        reopened.WaitForAssertion(() => Assert.Contains("It goes on if this page is closed", reopened.Find("[data-progress]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.NotNull(reopened.Find("[data-cancel-start]").GetAttribute("disabled")); // nothing else runs meanwhile

        operations.Changed -= Hold;
        Assert.NotNull(hold);
        await hold.RollbackAsync();
        await hold.DisposeAsync();
        reopened.WaitForAssertion(() => Assert.Contains("Re-issued 2 device certificate(s)", reopened.Find("[data-reissued]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Single(reopened.FindAll("[data-pfx-password]"));
        Assert.Equal("Reissued", reopened.Find("[data-rollover-stage]").GetAttribute("data-rollover-stage"));
        Assert.Empty(reopened.FindAll("[data-progress]"));
    }
}
