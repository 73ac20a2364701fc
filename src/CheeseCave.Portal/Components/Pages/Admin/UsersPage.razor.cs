using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace CheeseCave.Portal.Components.Pages.Admin;

public partial class UsersPage
{
    private sealed record ShownInvitation(string UserName, string Role, DateTimeOffset ExpiresAt, string Url);

    private IReadOnlyList<UserSummary> _users = [];
    private IReadOnlyList<InvitationSummary> _invitations = [];
    private string _inviteUserName = "";

    // The one place the invitation's role lives: the select shows it and the create button reads it. The select
    // (a native one) sets it in its change handler, which completes before the circuit dispatches a later click.
    private string _inviteRole = PortalRoles.Viewer;
    private ShownInvitation? _createdLink;
    private bool _busy;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        if (!SignIn.IsEntra)
        {
            await ReloadAsync();
        }
    }

    private async Task<ClaimsPrincipal> CallerAsync() => (await AuthenticationState).User;

    private async Task ReloadAsync()
    {
        var caller = await CallerAsync();
        try
        {
            _users = await Administration.ListUsersAsync(caller);
            _invitations = await Administration.ListOpenInvitationsAsync(caller);
        }
        catch (UnauthorizedAccessException)
        {
            // The cookie still carries a role the database no longer grants (demoted or disabled moments ago).
            Navigation.NavigateTo("account/access-denied", forceLoad: true);
        }
    }

    private async Task CreateInvitationAsync()
    {
        // Read both fields before the first await: what the form shows at the click is what is created.
        var userName = _inviteUserName;
        var role = _inviteRole;
        await RunAsync(async caller =>
        {
            var (result, invitation) = await Administration.CreateInvitationAsync(caller, userName, role);
            if (invitation is not null)
            {
                _createdLink = new ShownInvitation(invitation.UserName, invitation.Role, invitation.ExpiresAt, Navigation.BaseUri + "invite/" + invitation.Token);
                _inviteUserName = "";
            }

            return (result, $"Invitation for {invitation?.UserName} created.");
        });
    }

    private Task RevokeAsync(InvitationSummary invitation) =>
        RunAsync(async caller => (await Administration.RevokeInvitationAsync(caller, invitation.Id), $"Invitation for {invitation.UserName} revoked."));

    private Task ChangeRoleAsync(UserSummary user, string role) =>
        RunAsync(async caller => (await Administration.ChangeRoleAsync(caller, user.Id, role), $"{user.UserName} is now {role}."));

    private Task SetDisabledAsync(UserSummary user, bool disabled) =>
        RunAsync(async caller => (await Administration.SetDisabledAsync(caller, user.Id, disabled), $"{user.UserName} is {(disabled ? "disabled" : "enabled")}."));

    /// <summary>Runs one change, reports it and reloads the lists (the service checks the caller's role again).</summary>
    private async Task RunAsync(Func<ClaimsPrincipal, Task<(AccountResult Result, string Success)>> change)
    {
        _busy = true;
        try
        {
            var caller = await CallerAsync();
            var (result, success) = await change(caller);
            Snackbar.Add(result.Succeeded ? success : result.ErrorText, result.Succeeded ? Severity.Success : Severity.Error);
            if (result.Denied)
            {
                Navigation.NavigateTo("account/access-denied", forceLoad: true);
                return;
            }

            await ReloadAsync();
        }
        finally
        {
            _busy = false;
        }
    }
}
