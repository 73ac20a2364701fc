using System.Security.Claims;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Provisioning.Arm;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace CheeseCave.Portal.Components.Wizards.Setups;

/// <summary>Step 1: create or pick the DPS; the name is checked against the rules and for availability as it is typed.</summary>
public sealed partial class DpsStep : IDisposable
{
    private static readonly string[] Locations = ["eastus", "eastus2", "westus2", "centralus", "westeurope", "northeurope", "uksouth", "francecentral", "germanywestcentral", "swedencentral", "australiaeast", "japaneast", "southeastasia"];

    [Parameter, EditorRequired]
    public SetupView View { get; set; } = default!;

    [Parameter, EditorRequired]
    public ClaimsPrincipal User { get; set; } = default!;

    [Parameter]
    public EventCallback<int?> OnChanged { get; set; }

    private IReadOnlyList<ResourceGroupInfo> _groups = [];
    private IReadOnlyList<ProvisioningServiceInfo> _existing = [];
    private string? _group;
    private string _name = "";
    private string? _nameProblem;
    private string? _nameHelp = "3-64 letters, digits and hyphens. DPS names are global.";
    private bool _nameOk;
    private bool _checking;
    private CancellationTokenSource? _nameDebounce;
    private static readonly TimeSpan NameCheckDelay = TimeSpan.FromMilliseconds(400);
    private string _location = "eastus";
    private string? _existingName;
    private SetupOperationWatch? _watch;
    private bool _changing;
    private readonly StepAction _action;

    public DpsStep() => _action = new StepAction(StateHasChanged);

    /// <summary>A local action, or a DPS being created for this setup (from this page or any other).</summary>
    private bool Busy => _action.IsBusy || _watch?.IsRunning == true;

    private string? _nameIcon => _checking ? Icons.Material.Outlined.HourglassTop : _nameOk ? Icons.Material.Filled.CheckCircle : null;

    protected override async Task OnInitializedAsync()
    {
        if (View.CanChange && View.Dps is null)
        {
            await LoadGroupsAsync();
        }
    }

    private async Task StartChangingAsync()
    {
        _changing = true;
        await LoadGroupsAsync();
    }

    private async Task LoadGroupsAsync()
    {
        var groups = await Dps.ListResourceGroupsAsync(User);
        _action.Show(groups.Error, LoadGroupsAsync);
        if (!groups.Succeeded)
        {
            return;
        }

        _groups = groups.Value!;
        var group = _groups.FirstOrDefault(g => g.Name.Equals(View.ResourceGroup, StringComparison.OrdinalIgnoreCase)) ?? (_groups.Count > 0 ? _groups[0] : null);
        if (group is not null)
        {
            await GroupChangedAsync(group.Name);
        }
    }

    private async Task GroupChangedAsync(string group)
    {
        _group = group;
        if (_groups.FirstOrDefault(g => g.Name == group) is { } info && Locations.Contains(info.Location, StringComparer.OrdinalIgnoreCase))
        {
            _location = info.Location.ToLowerInvariant();
        }

        var existing = await Dps.ListProvisioningServicesAsync(User, group);
        _existing = existing.Value ?? [];
        _existingName = _existing.Count > 0 ? _existing[0].Name : null;
        if (!existing.Succeeded)
        {
            _action.Show(existing.Error, () => GroupChangedAsync(group));
        }
    }

    private async Task NameChanged(string value)
    {
        _name = value?.Trim() ?? "";
        var rules = SetupNames.CheckDpsName(_name);
        _nameOk = false;
        _nameProblem = rules.IsValid || _name.Length == 0 ? null : rules.Problem;
        _nameHelp = rules.IsValid ? "Checking availability…" : "3-64 letters, digits and hyphens. DPS names are global.";
        _checking = rules.IsValid;

        // Our own debounce rather than the text field's: its timer can be reset by a re-render that lands between a
        // keystroke and the timer (e.g. the resource groups finishing loading), leaving "Checking availability…" forever.
        _nameDebounce?.Cancel();
        _nameDebounce?.Dispose();
        _nameDebounce = null;
        if (!rules.IsValid)
        {
            return;
        }

        var debounce = _nameDebounce = new CancellationTokenSource();
        try
        {
            await Task.Delay(NameCheckDelay, Time, debounce.Token);
        }
        catch (OperationCanceledException)
        {
            return; // typed on, or the page closed
        }

        await CheckAvailabilityAsync(_name);
    }

    public void Dispose()
    {
        _nameDebounce?.Cancel();
        _nameDebounce?.Dispose();
    }

    private async Task CheckAvailabilityAsync(string value)
    {
        var name = value?.Trim() ?? "";
        if (!SetupNames.CheckDpsName(name).IsValid)
        {
            _checking = false;
            return;
        }

        var check = await Dps.CheckDpsNameAsync(User, name);
        if (name != _name)
        {
            return; // the user typed on
        }

        _checking = false;
        if (!check.Succeeded)
        {
            _nameHelp = null;
            _action.Show(check.Error, () => CheckAvailabilityAsync(name));
            return;
        }

        _nameOk = check.Value!.IsValid;
        _nameProblem = check.Value.Problem;
        _nameHelp = _nameOk ? $"{name} is available." : null;
    }

    /// <summary>Runs apart from this circuit (SetupOperations): a reload or a closed tab does not stop it, and every page of the setup sees it.</summary>
    private async Task CreateAsync()
    {
        var (group, name, location) = (_group!, _name, _location);
        var start = await Operations.StartAsync<DpsHandler, ProvisioningServiceInfo>(User, View.Id, SetupOperationKind.CreateDps, name,
            (dps, progress, cancellationToken) => dps.CreateDpsAsync(User, View.Id, group, name, location, progress, cancellationToken));
        _action.Show(start.Refused, CreateAsync);
    }

    private async Task OperationChangedAsync(SetupOperationStatus status)
    {
        if (status.IsRunning)
        {
            return; // the watch shows it; Busy disables the form
        }

        _action.Show(status.Error, CreateAsync);
        if (status.Error is null)
        {
            _changing = false;
            await OnChanged.InvokeAsync(null);
        }
    }

    private async Task SelectAsync()
    {
        var (group, name) = (_group!, _existingName!);
        if (await _action.RunAsync("Reading the DPS", async _ => (await Dps.SelectDpsAsync(User, View.Id, group, name)).Error))
        {
            _changing = false;
            await OnChanged.InvokeAsync(null);
        }
    }
}
