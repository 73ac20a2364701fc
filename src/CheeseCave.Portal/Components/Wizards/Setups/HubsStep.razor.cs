using System.Security.Claims;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Provisioning.Arm;
using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Components.Wizards.Setups;

/// <summary>Step 2: link IoT hubs to the setup's DPS (and create one, as a long operation).</summary>
public sealed partial class HubsStep
{
    [Parameter, EditorRequired]
    public SetupView View { get; set; } = default!;

    [Parameter, EditorRequired]
    public ClaimsPrincipal User { get; set; } = default!;

    [Parameter]
    public EventCallback<int?> OnChanged { get; set; }

    private IReadOnlyList<IotHubInfo>? _hubs;

    /// <summary>The hubs of the resource group that this DPS does not link yet.</summary>
    private List<IotHubInfo> Unlinked => _hubs is null ? [] :
        [.. _hubs.Where(h => !View.LinkedHubs.Any(l => string.Equals(l.HostName, h.HostName, StringComparison.OrdinalIgnoreCase)))];
    private IReadOnlyList<HubPolicyChoice> _policies = [];

    /// <summary>A local action, or a hub being created for this setup (from this page or any other).</summary>
    private bool Busy => _action.IsBusy || _watch?.IsRunning == true;
    private string? _hub;
    private string? _policy;
    private int _weight = 1;
    private bool _apply = true;
    private bool _creating;
    private string _hubName = "";
    private string? _hubNameProblem;
    private string _hubLocation = "";
    private SetupOperationWatch? _watch;
    private readonly StepAction _action;

    public HubsStep() => _action = new StepAction(StateHasChanged);

    protected override async Task OnInitializedAsync()
    {
        _hubLocation = View.Location ?? "eastus";
        if (View.CanChange && View.Dps is not null)
        {
            await LoadHubsAsync();
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        // After a link the parent hands a fresh View: move the choice off the hub that is now linked.
        if (_hubs is not null && _hub is not null && !Unlinked.Any(h => h.Name == _hub))
        {
            _hub = null;
            _policy = null;
            if (Unlinked.FirstOrDefault() is { } next)
            {
                await HubChangedAsync(next.Name);
            }
        }
    }

    private async Task LoadHubsAsync()
    {
        var hubs = await Hubs.ListHubsAsync(User, View.ResourceGroup!);
        _action.Show(hubs.Error, LoadHubsAsync);
        if (!hubs.Succeeded)
        {
            return;
        }

        _hubs = hubs.Value!;
        if (Unlinked.FirstOrDefault() is { } first)
        {
            await HubChangedAsync(first.Name);
        }
    }

    private async Task HubChangedAsync(string hub)
    {
        _hub = hub;
        var policies = await Hubs.ListHubPoliciesAsync(User, View.ResourceGroup!, hub);
        _policies = policies.Value ?? [];
        _policy = _policies.Count > 0 ? _policies[0].KeyName : null; // iothubowner first
        if (!policies.Succeeded)
        {
            _action.Show(policies.Error, () => HubChangedAsync(hub));
        }
    }

    private void HubNameChanged(string value)
    {
        _hubName = value?.Trim() ?? "";
        var rules = SetupNames.CheckHubName(_hubName);
        _hubNameProblem = rules.IsValid || _hubName.Length == 0 ? null : rules.Problem;
    }

    /// <summary>Runs apart from this circuit (SetupOperations): a reload or a closed tab does not stop it, and every page of the setup sees it.</summary>
    private async Task CreateHubAsync()
    {
        var (name, location) = (_hubName, _hubLocation);
        var start = await Operations.StartAsync<HubsHandler, IotHubInfo>(User, View.Id, SetupOperationKind.CreateHub, name,
            (hubs, progress, cancellationToken) => hubs.CreateHubAsync(User, View.Id, name, location, progress, cancellationToken));
        _action.Show(start.Refused, CreateHubAsync);
    }

    private async Task OperationChangedAsync(SetupOperationStatus status)
    {
        if (status.IsRunning)
        {
            return; // the watch shows it; Busy disables the form
        }

        _action.Show(status.Error, CreateHubAsync);
        if (status.Succeeded)
        {
            _creating = false;
            _hubName = "";
            if (View.CanChange && View.Dps is not null)
            {
                await LoadHubsAsync();
                if (_hubs?.Any(h => h.Name == status.Subject) == true && Unlinked.Any(h => h.Name == status.Subject))
                {
                    await HubChangedAsync(status.Subject); // offer the new hub for linking
                }
            }
        }

        if (status.Error is null)
        {
            await OnChanged.InvokeAsync(null);
        }
    }

    private async Task LinkAsync()
    {
        var (hub, policy, weight, apply) = (_hub!, _policy!, _weight, _apply);
        if (await _action.RunAsync("Linking the hub", async _ => (await Hubs.LinkHubAsync(User, View.Id, hub, policy, weight, apply)).Error))
        {
            await OnChanged.InvokeAsync(null);
        }
    }
}
