using Microsoft.Playwright;

namespace CheeseCave.E2E;

public sealed class UsersPageJourney(PortalServer server) : IClassFixture<PortalServer>
{
    private const string InviteeName = "olivia";
    private const string InviteePassword = "washed rind and patience";

    [Fact]
    public async Task AdministratorInvitesAnOperatorWhoJoinsAndSignsIn()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);

        // The administrator creates the invitation on the (interactive) Users page.
        await using var adminContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
            StorageStatePath = await server.AdministratorStorageStateAsync(browser),
        });
        var admin = await adminContext.NewPageAsync();
        var adminProblems = Journeys.CollectProblems(admin);
        var audit = new AccessibilityAudit();
        await admin.GotoAsync(server.BaseAddress.ToString());
        await Journeys.WaitForCircuitAsync(admin);
        await admin.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Users" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Users", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(admin.Locator($"[data-user-row='{PortalServer.AdministratorName}']")).ToBeVisibleAsync();

        await admin.Locator("#invite-user-name").FillAsync(InviteeName);
        await RoleSelect(admin).SelectOptionAsync("Operator");
        await Assertions.Expect(admin.Locator(".cc-role-help")).ToContainTextAsync("prepares setups");
        await admin.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create invitation link" }).ClickAsync();

        var linkBlock = admin.Locator("[data-invitation-link]");
        await Assertions.Expect(linkBlock).ToBeVisibleAsync();
        var inviteLink = (await linkBlock.TextContentAsync())!.Trim();
        Assert.StartsWith(server.BaseAddress + "invite/", inviteLink, StringComparison.Ordinal);
        await Assertions.Expect(admin.Locator($"[data-invitation-row='{InviteeName}']")).ToContainTextAsync("Operator");
        await Journeys.SaveScreenshotAsync(admin, "users-invite.png");
        await audit.ScanAsync(admin, "users (invitation created)");

        // The invitee opens the link in their own browser, chooses a password and signs in.
        await using var inviteeContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
        var invitee = await inviteeContext.NewPageAsync();
        var inviteeProblems = Journeys.CollectProblems(invitee);

        var anonymous = await invitee.GotoAsync(server.BaseAddress + "admin/users");
        Assert.Equal(200, anonymous?.Status);
        Assert.StartsWith(server.BaseAddress + "account/login?ReturnUrl=", invitee.Url, StringComparison.Ordinal);

        await invitee.GotoAsync(inviteLink);
        await Assertions.Expect(invitee.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Join CheeseCave Portal" })).ToBeVisibleAsync();
        await Assertions.Expect(invitee.Locator("[data-invite-user]")).ToHaveTextAsync(InviteeName);
        await Assertions.Expect(invitee.Locator("[data-invite-role]")).ToContainTextAsync("Operator");
        await invitee.GetByLabel("Choose a password").FillAsync(InviteePassword);
        await invitee.GetByLabel("Confirm password").FillAsync(InviteePassword);
        await Journeys.SaveScreenshotAsync(invitee, "invite.png");
        await audit.ScanAsync(invitee, "accept invitation");
        await invitee.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create my account" }).ClickAsync();

        await invitee.WaitForURLAsync(server.BaseAddress + "account/login");
        await Assertions.Expect(invitee.GetByRole(AriaRole.Alert)).ToContainTextAsync($"Your account {InviteeName} is ready.");
        await invitee.GetByLabel("User name").FillAsync(InviteeName);
        await invitee.GetByLabel("Password").FillAsync(InviteePassword);
        await Journeys.SaveScreenshotAsync(invitee, "login.png");
        await audit.ScanAsync(invitee, "sign in");
        await invitee.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();

        await invitee.WaitForURLAsync(server.BaseAddress.ToString());
        await Journeys.WaitForCircuitAsync(invitee);
        await Assertions.Expect(invitee.Locator($"[data-user='{InviteeName}']")).ToContainTextAsync("Operator");
        await Assertions.Expect(invitee.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Users" })).ToHaveCountAsync(0);

        // An Operator typing the address of the Users page is turned away by the server.
        await invitee.GotoAsync(server.BaseAddress + "admin/users");
        Assert.StartsWith(server.BaseAddress + "account/access-denied", invitee.Url, StringComparison.Ordinal);
        await Assertions.Expect(invitee.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Access denied" })).ToBeVisibleAsync();
        await audit.ScanAsync(invitee, "access denied");

        // The spent link no longer works.
        await invitee.GotoAsync(inviteLink);
        await Assertions.Expect(invitee.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "This invitation cannot be used" })).ToBeVisibleAsync();

        // Back on the Users page the new colleague is listed as an Operator and the invitation is gone.
        await admin.ReloadAsync();
        await Journeys.WaitForCircuitAsync(admin);
        var row = admin.Locator($"[data-user-row='{InviteeName}']");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await Assertions.Expect(row.GetByRole(AriaRole.Combobox, new LocatorGetByRoleOptions { Name = $"Role of {InviteeName}", Exact = true })).ToHaveValueAsync("Operator");
        Assert.Equal("Operator", await AccessibilityTree.ComboboxValueAsync(admin, $"Role of {InviteeName}")); // what a screen reader announces
        await Assertions.Expect(admin.Locator("[data-no-invitations]")).ToBeVisibleAsync();
        await Journeys.SaveScreenshotAsync(admin, "users.png");
        await audit.ScanAsync(admin, "users (after joining)");

        // Signing out is a real POST; afterwards the portal asks for a sign-in again.
        await invitee.GotoAsync(server.BaseAddress.ToString());
        await Journeys.WaitForCircuitAsync(invitee);
        await invitee.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign out" }).ClickAsync();
        await invitee.WaitForURLAsync(server.BaseAddress + "account/login");

        audit.AssertNoBlockingViolations();
        Assert.Empty(adminProblems);
        Assert.Empty(inviteeProblems);
    }

    /// <summary>The invitation form's role select, found as assistive technology finds it: a combobox named "Role".</summary>
    internal static ILocator RoleSelect(IPage page) =>
        page.GetByRole(AriaRole.Combobox, new PageGetByRoleOptions { Name = "Role", Exact = true });
}
