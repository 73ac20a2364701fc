using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups.HubDevices;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace CheeseCave.Portal.Components.Pages.HubDevices;

/// <summary>
/// The devices of one hub linked to a setup: read on open and on Refresh (with the step-action progress line and
/// errors with what to do); a device's twin and last messages on demand. Reads only, so Viewer.
/// </summary>
public sealed partial class HubDevicesPage
{
    [Parameter]
    public int Id { get; set; }

    /// <summary>The hub's name (the first label of its host name).</summary>
    [Parameter]
    public string Hub { get; set; } = "";

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private ClaimsPrincipal _user = new();
    private HubDevicesView? _view;
    private HubDeviceDetailsView? _details;
    private string? _selected;
    private readonly StepAction _action;

    public HubDevicesPage() => _action = new StepAction(() => InvokeAsync(StateHasChanged));

    protected override async Task OnParametersSetAsync()
    {
        _user = (await AuthenticationState).User;
        _view = null;
        _details = null;
        _selected = null;
        await RefreshAsync();
    }

    private async Task RefreshAsync()
    {
        var selected = _selected;
        await _action.RunAsync($"Reading the devices of {Hub}", async progress =>
        {
            var result = await Devices.ListDevicesAsync(_user, Id, Hub);
            if (result.Value is { } view)
            {
                _view = view;
            }

            if (result.Error is null && selected is not null && _view!.Devices.Any(d => d.DeviceId == selected))
            {
                progress.Report($"reading the twin of {selected}");
                return await LoadDetailsAsync(selected);
            }

            return result.Error;
        });
    }

    private async Task SelectAsync(string deviceId) =>
        await _action.RunAsync($"Reading the twin and messages of {deviceId}", _ => LoadDetailsAsync(deviceId));

    private async Task<PortalError?> LoadDetailsAsync(string deviceId)
    {
        var result = await Devices.GetDeviceAsync(_user, Id, Hub, deviceId);
        _details = result.Value;
        _selected = result.Value?.DeviceId;
        return result.Error;
    }

    private string RowClass(HubDeviceRow row, int index) => row.DeviceId == _selected ? "cc-row-selected" : "";

    private static string When(DateTimeOffset? time) =>
        time is { } at ? at.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "Never";

    private static string Properties(HubMessageView message) =>
        message.Properties.Count == 0 ? "" : " · " + string.Join(", ", message.Properties.Select(p => $"{p.Key}={p.Value}"));
}
