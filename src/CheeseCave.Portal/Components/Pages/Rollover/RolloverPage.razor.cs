using System.Security.Claims;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.Rollover;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace CheeseCave.Portal.Components.Pages.Rollover;

/// <summary>
/// The CA rollover wizard: start (a new CA, generated or imported), then one button per step in order, each through its
/// handler (approval, audit, errors with what to do); cancel while the old CA is not retired. The re-issue runs as a
/// background operation (SetupOperations) that outlives the page; its progress shows when the page is opened again. The
/// state comes from the database on every load, so a reload or a restart shows where the rollover stands, a step cut
/// off by a restart is said in one sentence, and so is a batch whose keys a restart took.
/// </summary>
public sealed partial class RolloverPage
{
    [Parameter]
    public int Id { get; set; }

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private ClaimsPrincipal _user = new();
    private RolloverOverview? _overview;
    private PortalError? _loadError;
    private RolloverReissueView? _reissued;
    private RolloverImportResult? _imported;
    private SetupOperationWatch? _watch;
    private bool _importing;
    private readonly RolloverStartForm _form = new();
    private readonly StepAction _action;

    public RolloverPage() => _action = new StepAction(() => InvokeAsync(StateHasChanged));

    private RolloverView? Open => _overview?.Rollover;

    private bool CanChange => PortalRoles.AtLeast(PortalRoles.Operator).Any(_user.IsInRole);

    /// <summary>An action of this page runs, or a re-issue runs in the background (from this page or another).</summary>
    private bool Busy => _action.IsBusy || _watch?.IsRunning == true;

    protected override async Task OnParametersSetAsync()
    {
        _user = (await AuthenticationState).User;
        await LoadAsync();
        // Back from the import POST: the outcome waits under the token in ?import=.
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(Navigation.Uri).Query);
        if (query.TryGetValue("import", out var token) && ImportOutcomes.Find(token.ToString(), _user.Identity?.Name ?? "", Id) is { } imported)
        {
            _imported = imported.Value;
            _importing = imported.Error is not null;
            _action.Show(imported.Error);
            if (imported.IsPending)
            {
                _action.Show(null);
            }
        }
        SuggestNames();
    }

    private async Task LoadAsync()
    {
        var result = await Reader.GetRolloverAsync(_user, Id);
        _overview = result.Value;
        _loadError = result.Error;
    }

    /// <summary>
    /// Names for the start form that the setup's CAs do not use yet: "{setup} Root CA {year}", with a generation number
    /// when the last rollover already took that name (the form is refilled after each rollover ends).
    /// </summary>
    private void SuggestNames()
    {
        if (_overview is not { Rollover: null } overview)
        {
            return;
        }

        var taken = new[] { overview.LastFinished?.NewCa.RootSubject, overview.LastFinished?.OldCa.RootSubject, overview.LastFinished?.NewCa.IssuerSubject, overview.LastFinished?.OldCa.IssuerSubject }
            .OfType<string>().Select(ShortName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(_form.RootSubject) && !taken.Contains(ShortName(_form.RootSubject)))
        {
            return;
        }

        var year = DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var generation = 1; ; generation++)
        {
            var suffix = generation == 1 ? year : $"{year}-{generation.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            if (!taken.Contains($"{overview.SetupName} Root CA {suffix}") && !taken.Contains($"{overview.SetupName} Intermediate CA {suffix}"))
            {
                _form.RootSubject = $"{overview.SetupName} Root CA {suffix}";
                _form.IntermediateSubject = $"{overview.SetupName} Intermediate CA {suffix}";
                _form.NewGroupId = $"{SafeId(overview.SetupName)}-devices-{suffix}";
                return;
            }
        }
    }

    private Task<bool> StartAsync() => _action.RunAsync("Creating the new CA", async _ =>
    {
        var result = await Starter.StartRolloverAsync(_user, Id, _form);
        await LoadAsync();
        return result.Error;
    });

    private Task<bool> RunAsync(RolloverStep step)
    {
        if (step == RolloverStep.Reissue)
        {
            return StartReissueAsync($"{Open?.PendingDevices ?? 0} device(s)", (reissue, progress, cancellationToken) => reissue.ReissueDevicesAsync(_user, Id, progress, cancellationToken));
        }

        _imported = null;
        return _action.RunAsync(RolloverSteps.Title(step), async progress =>
        {
            var result = step switch
            {
                RolloverStep.Upload => await CaSteps.UploadNewCaAsync(_user, Id),
                RolloverStep.Prove => await CaSteps.ProveNewCaAsync(_user, Id, progress),
                RolloverStep.Trust => await GroupSteps.TrustNewCaAsync(_user, Id),
                _ => await GroupSteps.RetireOldCaAsync(_user, Id),
            };
            await LoadAsync();
            SuggestNames();
            return result.Error;
        });
    }

    private Task<bool> ReissueLostAsync(string batchId) =>
        StartReissueAsync($"batch {batchId} again", (reissue, progress, cancellationToken) => reissue.ReissueLostBatchAsync(_user, Id, batchId, progress, cancellationToken));

    /// <summary>
    /// Apart from this circuit (SetupOperations): leaving the page does not stop it, and the re-issue (with its PFX
    /// password) comes back once, to this user: here, or when the page is opened again.
    /// </summary>
    private async Task<bool> StartReissueAsync(string subject, Func<RolloverReissue, IProgress<string>, CancellationToken, Task<PortalResult<RolloverReissueView>>> work)
    {
        _reissued = null;
        var start = await Operations.StartAsync(_user, Id, SetupOperationKind.RolloverReissue, subject, work);
        _action.Show(start.Refused, () => StartReissueAsync(subject, work));
        return start.Started;
    }

    private async Task ReissueChangedAsync(SetupOperationStatus status)
    {
        if (status.IsRunning)
        {
            return;
        }

        _action.Show(status.Error);
        _reissued = Operations.TakeValue<RolloverReissueView>(Id, SetupOperationKind.RolloverReissue, _user) ?? _reissued;
        await LoadAsync();
    }

    private Task<bool> ConfirmElsewhereAsync() => _action.RunAsync("Recording the re-issue done elsewhere", async _ =>
    {
        var result = await Reissue.ConfirmReissuedElsewhereAsync(_user, Id);
        await LoadAsync();
        return result.Error;
    });

    private Task<bool> CancelAsync() => _action.RunAsync("Cancelling the rollover", async _ =>
    {
        _imported = null;
        var result = await Canceller.CancelRolloverAsync(_user, Id);
        await LoadAsync();
        SuggestNames();
        return result.Error;
    });

    /// <summary>What the manual proof panel runs, as this page's action.</summary>
    private async Task RunPanelAsync(string title, Func<Task<PortalError?>> action) => await _action.RunAsync(title, async _ =>
    {
        var error = await action();
        await LoadAsync();
        return error;
    });

    private static StepRowState StateOf(RolloverView rollover, RolloverStep? step)
    {
        var done = step is null || rollover.Stage > RolloverSteps.Before(step.Value);
        if (done)
        {
            return StepRowState.Done;
        }

        return rollover.Next == step ? (rollover.Interrupted is not null ? StepRowState.Interrupted : StepRowState.Current) : StepRowState.Later;
    }

    private static string SummaryOf(RolloverView rollover, RolloverStep step) => step switch
    {
        RolloverStep.Upload => rollover.NewCa.DpsCertificateName is { } name ? $"in the DPS as {name}" : "the DPS learns the new root (public part only)",
        RolloverStep.Prove => rollover.NewCa.IsVerified ? "verified"
            : rollover.NewCa.RootHasKey ? "DPS's verification code, signed with the new CA's key on the server (or by hand)"
            : "by hand: DPS's verification code, signed where the new CA's key is kept",
        RolloverStep.Trust => rollover.GroupMode == RolloverGroupMode.SwapInGroup
            ? $"group {rollover.OldGroupId}: the new CA as secondary, both generations register"
            : $"a new group {rollover.NewGroupId} beside {rollover.OldGroupId}",
        RolloverStep.Reissue => rollover.Stage > RolloverStage.Trusted
            ? $"{rollover.ReissuedCount} device certificate(s) re-issued"
            : $"{rollover.PendingDevices} active device certificate(s) still from the old CA",
        _ => "the old CA leaves the enrollment and the DPS; its devices are refused from then on",
    };

    private static string ButtonText(RolloverStep step, RolloverView rollover) => step switch
    {
        RolloverStep.Upload => "Upload",
        RolloverStep.Prove => "Verify",
        RolloverStep.Trust => "Trust the new CA",
        RolloverStep.Reissue => $"Re-issue {rollover.PendingDevices} device(s)",
        _ => "Retire the old CA",
    };

    private static string ShortName(string subject) => SetupCertificates.ShortName(subject);

    private static string SafeId(string name) =>
        new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-') is { Length: > 0 } id ? id : "cave";
}

/// <summary>Where a step of the rollover stands, for its row.</summary>
public enum StepRowState
{
    Done,
    Current,
    Interrupted,
    Later,
}
