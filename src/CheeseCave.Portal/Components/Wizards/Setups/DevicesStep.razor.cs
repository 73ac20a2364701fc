using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Operations;
using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Components.Wizards.Setups;

/// <summary>Step 9: device certificates from the setup's CA, their downloads, and each batch's PFX password, shown once.</summary>
public sealed partial class DevicesStep
{
    [Parameter, EditorRequired]
    public SetupView View { get; set; } = default!;

    [Parameter, EditorRequired]
    public ClaimsPrincipal User { get; set; } = default!;

    [Parameter]
    public EventCallback<int?> OnChanged { get; set; }

    private bool _usePrefix;
    private string _lines = "";
    private string _prefix = "";
    private int _count = 3;
    private IReadOnlyList<RegistrationIdCheck> _checks = [];
    private IReadOnlyList<SetupDeviceView> _devices = [];
    private DeviceBatchView? _batch;
    private string? _snippetFor;
    private SetupOperationWatch? _watch;
    private readonly StepAction _action;
    private IReadOnlyList<ApprovalView> _approvedBatches = [];
    private readonly Dictionary<int, string> _revealed = [];

    public DevicesStep() => _action = new StepAction(StateHasChanged);

    /// <summary>A batch being issued for this setup (from this page or any other).</summary>
    private bool Busy => _watch?.IsRunning == true;

    private SetupCertificateView? Issuer =>
        View.Certificates.FirstOrDefault(c => c.Kind == CheeseCave.Portal.Persistence.SetupCertificateKind.Intermediate && c.HasKey)
        ?? View.Certificates.FirstOrDefault(c => c.Kind == CheeseCave.Portal.Persistence.SetupCertificateKind.Root && c.HasKey);

    private IReadOnlyList<string> Ids => _usePrefix ? DeviceSettings.Expand(_prefix, Math.Min(_count, DeviceSettings.MaxBatch)) : DeviceSettings.ParseLines(_lines);

    private bool CanIssue => _checks.Count > 0 && _checks.Count <= DeviceSettings.MaxBatch && _checks.All(c => c.IsValid);

    private string Preview => _checks.Count <= 4 ? string.Join(", ", _checks.Select(c => c.RegistrationId)) : $"{_checks[0].RegistrationId}, {_checks[1].RegistrationId} … {_checks[^1].RegistrationId}";

    protected override async Task OnInitializedAsync()
    {
        var prefix = new string([.. View.Name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        _prefix = (prefix.Length == 0 ? "cave" : prefix) + "-";
        await LoadDevicesAsync();
    }

    private async Task LoadDevicesAsync()
    {
        var result = await Devices.ListDevicesAsync(User, View.Id);
        _devices = result.Value ?? [];
        if (result.Error is not null)
        {
            _action.Show(result.Error, LoadDevicesAsync);
        }

        await LoadApprovedBatchesAsync();
    }

    /// <summary>
    /// Batches this user asked for that a colleague approved: their PFX password waits for this user alone, once, and
    /// is shown here, where the devices are (also on the request's page).
    /// </summary>
    private async Task LoadApprovedBatchesAsync()
    {
        var mine = await Approvals.ListAsync(User, ApprovalFilter.Mine);
        _approvedBatches = [.. (mine.Value ?? []).Where(r => r.SetupId == View.Id && r.Action == ApprovalAction.IssueDevices
            && (r.SecretWaiting || _revealed.ContainsKey(r.Id)))];
    }

    private async Task RevealAsync(int requestId)
    {
        var result = await Approvals.RevealSecretAsync(User, requestId);
        if (result.Value is { } password)
        {
            _revealed[requestId] = password;
        }

        _action.Show(result.Error, () => RevealAsync(requestId));
    }

    private async Task DecidedAsync()
    {
        await LoadDevicesAsync();
        await OnChanged.InvokeAsync(null);
    }

    private void Recheck() => _checks = DeviceSettings.Check(Ids);

    /// <summary>
    /// Runs apart from this circuit (SetupOperations): a reload or a closed tab does not stop it. The batch (with its
    /// PFX password) comes back once, to this user: here, or after a reload if this tab was closed.
    /// </summary>
    private async Task IssueAsync()
    {
        Recheck();
        if (!CanIssue)
        {
            return;
        }

        _action.Show(null);
        _batch = null;
        IReadOnlyList<string> ids = [.. _checks.Select(c => c.RegistrationId)];
        var start = await Operations.StartAsync<DeviceIssuanceHandler, DeviceBatchView>(User, View.Id, SetupOperationKind.IssueDevices, $"{ids.Count} device{(ids.Count == 1 ? "" : "s")}",
            (devices, _, cancellationToken) => devices.IssueDevicesAsync(User, View.Id, ids, cancellationToken));
        _action.Show(start.Refused, IssueAsync);
    }

    private async Task IssueChangedAsync(SetupOperationStatus status)
    {
        if (status.IsRunning)
        {
            return;
        }

        _action.Show(status.Error, IssueAsync);
        if (Operations.TakeValue<DeviceBatchView>(View.Id, SetupOperationKind.IssueDevices, User) is { } batch)
        {
            _batch = batch;
            _snippetFor = batch.Devices[0].RegistrationId;
        }

        await LoadDevicesAsync();
        if (status.Error is null)
        {
            await OnChanged.InvokeAsync(null);
        }
    }
}
