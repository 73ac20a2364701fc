using CheeseCave.Portal.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// A role picked and "Create invitation link" clicked at once: the invitation carries the role the form shows, on the
/// page, in the database and on the invitee's accept page. (With MudSelect this once made a Viewer invitation while the
/// form showed Approver: its value landed after the click.)
/// </summary>
public sealed class InvitationRoleJourney(PortalServer server) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task AnInvitationCarriesTheRolePickedEvenWhenCreateIsClickedAtOnce()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        var viewport = new ViewportSize { Width = 1366, Height = 900 };
        await using var adminContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
        {
            ViewportSize = viewport,
            StorageStatePath = await server.AdministratorStorageStateAsync(browser),
        });
        var admin = await adminContext.NewPageAsync();
        var problems = Journeys.CollectProblems(admin);
        var audit = new AccessibilityAudit();
        await admin.GotoAsync(server.BaseAddress + "admin/users");
        await Journeys.WaitForCircuitAsync(admin);

        var roleSelect = UsersPageJourney.RoleSelect(admin);
        var create = admin.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create invitation link" });
        Assert.Equal("Viewer", await AccessibilityTree.ComboboxValueAsync(admin, "Role")); // the select's value is exposed, not only its name

        foreach (var (userName, role) in new[] { ("paula", "Approver"), ("quentin", "Administrator"), ("rosa", "Operator") })
        {
            await admin.Locator("#invite-user-name").FillAsync(userName);
            await Assertions.Expect(create).ToBeEnabledAsync();

            // The pick and the click back to back, nothing waited for in between: the race is the point.
            await roleSelect.SelectOptionAsync(role);
            await create.ClickAsync();

            await Assertions.Expect(admin.Locator("[data-invitation-created]")).ToContainTextAsync($"Invitation for {userName} ({role})");
            await Assertions.Expect(admin.Locator($"[data-invitation-row='{userName}']")).ToContainTextAsync(role);
            await Assertions.Expect(roleSelect).ToHaveValueAsync(role);
            Assert.Equal(role, await AccessibilityTree.ComboboxValueAsync(admin, "Role"));
            Assert.Equal(role, StoredRole(userName));

            // The invitee sees the same role on the accept page.
            var link = (await admin.Locator("[data-invitation-link]").TextContentAsync())!.Trim();
            await using var inviteeContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = viewport });
            var invitee = await inviteeContext.NewPageAsync();
            await invitee.GotoAsync(link);
            await Assertions.Expect(invitee.Locator("[data-invite-user]")).ToHaveTextAsync(userName);
            await Assertions.Expect(invitee.Locator("[data-invite-role]")).ToHaveTextAsync(role);
        }

        await Journeys.SaveScreenshotAsync(admin, "users-invitation-roles.png");
        await audit.ScanAsync(admin, "users (three invitations)");
        audit.AssertNoBlockingViolations();
        Assert.Empty(problems);
    }

    private string StoredRole(string userName)
    {
        using var scope = server.Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<PortalDbContext>().Invitations.Single(i => i.UserName == userName).Role;
    }
}
