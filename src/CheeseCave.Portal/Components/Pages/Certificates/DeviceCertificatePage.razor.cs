using System.Globalization;
using CheeseCave.Portal.Common;
using StepAction = CheeseCave.Portal.Components.Wizards.Setups.StepAction;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace CheeseCave.Portal.Components.Pages.Certificates;

/// <summary>
/// One device certificate: its facts, the renewal chain of its registration id, where DPS has it now (read live), and
/// Renew (new key or device CSR), Revoke (with a reason) and Restore, each confirmed in a dialog and run with a
/// progress line; when approvals are on the action records a request and links to it.
/// </summary>
public partial class DeviceCertificatePage
{
    private static readonly DialogOptions _dialogOptions = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true };

    private DeviceCertificateDetails? _details;
    private DeviceRegistrationLive? _live;
    private PortalError? _error;
    private PortalError? _liveError;
    private bool _reading;
    private StepAction _action = null!;
    private Confirm? _confirm;
    private string _reason = "";
    private string _csr = "";
    private ApprovalTicket? _ticket;
    private string? _done;
    private string? _password;
    private int? _newDeviceId;

    private enum Confirm
    {
        Revoke,
        Restore,
        RenewWithKey,
        RenewWithCsr,
    }

    [Parameter]
    public int Id { get; set; }

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private DeviceCertificateReader Reader { get; set; } = default!;

    [Inject]
    private DeviceRevocationHandler Revocation { get; set; } = default!;

    [Inject]
    private DeviceRenewalHandler Renewal { get; set; } = default!;

    protected override void OnInitialized() => _action = new StepAction(() => InvokeAsync(StateHasChanged));

    protected override async Task OnParametersSetAsync()
    {
        _ticket = null;
        _done = null;
        _password = null;
        await LoadAsync();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && _details is not null)
        {
            await ReadLiveAsync(); // DPS is read after the page is up, so a slow DPS never holds the page
        }
    }

    private async Task LoadAsync()
    {
        var user = (await AuthenticationState).User;
        var result = await Reader.GetDeviceAsync(user, Id);
        (_details, _error) = (result.Value, result.Error);
    }

    private async Task ReadLiveAsync()
    {
        _reading = true;
        StateHasChanged();
        var result = await Reader.ReadRegistrationAsync((await AuthenticationState).User, Id);
        (_live, _liveError, _reading) = (result.Value, result.Error, false);
        StateHasChanged();
    }

    private void Ask(Confirm what)
    {
        _confirm = what;
        _reason = "";
        _csr = "";
    }

    private async Task ConfirmAsync()
    {
        if (_confirm is not { } what)
        {
            return;
        }

        _confirm = null;
        _ticket = null;
        _done = null;
        _password = null;
        var user = (await AuthenticationState).User;
        var ok = what switch
        {
            Confirm.Revoke => await _action.RunAsync("Revoking: blocking the device in DPS, then in its hub", async _ => Outcome(await Revocation.RevokeDeviceAsync(user, Id, _reason), v => v.Summary)),
            Confirm.Restore => await _action.RunAsync("Restoring: removing the block in DPS, then enabling the hub device", async _ => Outcome(await Revocation.RestoreDeviceAsync(user, Id), v => v.Summary)),
            _ => await _action.RunAsync("Renewing: signing the new certificate", async _ => Outcome(await Renewal.RenewDeviceAsync(user, Id, what == Confirm.RenewWithCsr ? _csr : null), Renewed)),
        };
        if (ok)
        {
            await LoadAsync();
            await ReadLiveAsync();
        }
    }

    private string Renewed(DeviceRenewalView view)
    {
        _password = view.PfxPassword;
        _newDeviceId = view.Device.Id;
        return $"Renewed: the new certificate is SHA-1 {view.Device.ThumbprintSha1}{(view.IndividualEnrollmentUpdated ? "; the device's individual enrollment now trusts it" : "")}.";
    }

    private PortalError? Outcome<T>(PortalResult<T> result, Func<T, string> done)
    {
        if (result.Pending is { } ticket)
        {
            _ticket = ticket;
        }
        else if (result.Value is { } value)
        {
            _done = done(value);
        }

        return result.Error;
    }

    private string ConfirmTitle => _confirm switch
    {
        Confirm.Revoke => "Revoke",
        Confirm.Restore => "Restore",
        Confirm.RenewWithKey => "Renew with a new key",
        Confirm.RenewWithCsr => "Sign the CSR",
        _ => "",
    };

    private string ConfirmText => _confirm switch
    {
        Confirm.Revoke => $"DPS will refuse '{_details?.Certificate.RegistrationId}' (a disabled individual enrollment) and its hub identity is disabled. Other devices of the group keep working. You can restore it later.",
        Confirm.Restore => $"DPS will accept '{_details?.Certificate.RegistrationId}' again and its hub identity is enabled.",
        Confirm.RenewWithKey => "The portal makes a new key and certificate for the same registration id, signed by the setup's current CA. The key and PFX can be downloaded by you for 15 minutes; this certificate is marked superseded.",
        Confirm.RenewWithCsr => $"Paste the CSR the device made (CN = {_details?.Certificate.RegistrationId}). Its key never leaves the device; this certificate is marked superseded.",
        _ => "",
    };

    private string File(string suffix) => $"setups/{_details!.SetupId}/devices/{Id}/{Uri.EscapeDataString(_details.Certificate.RegistrationId)}{suffix}";

    private static string Day(DateTimeOffset value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>DPS's enum names (Assigned, InitialAssignment) as words: "assigned", "initial assignment".</summary>
    private static string? Words(string? name) => name is null ? null
        : string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static string Short(string thumbprint) => thumbprint.Length > 12 ? thumbprint[..12] + "…" : thumbprint;

    private static Color StatusColor(DeviceCertificateStatus status) => status switch
    {
        DeviceCertificateStatus.Active => Color.Success,
        DeviceCertificateStatus.Expiring => Color.Warning,
        DeviceCertificateStatus.Revoked or DeviceCertificateStatus.Expired => Color.Error,
        _ => Color.Default,
    };
}
