using System.Security.Claims;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.Rollover;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace CheeseCave.Portal.Components.Pages.Rollover;

/// <summary>
/// The CA rollover wizard: start (a new CA), then one button per step in order, each through its handler (approval,
/// audit, errors with what to do). The state comes from the database on every load, so a reload or a restart shows
/// where the rollover stands, and a step cut off by a restart is said in one sentence.
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
    private readonly RolloverStartForm _form = new();
    private readonly StepAction _action;

    public RolloverPage() => _action = new StepAction(() => InvokeAsync(StateHasChanged));

    private RolloverView? Open => _overview?.Rollover;

    private bool CanChange => PortalRoles.AtLeast(PortalRoles.Operator).Any(_user.IsInRole);

    protected override async Task OnParametersSetAsync()
    {
        _user = (await AuthenticationState).User;
        await LoadAsync();
        if (_overview?.Rollover is null && string.IsNullOrEmpty(_form.RootSubject) && _overview is not null)
        {
            var year = DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _form.RootSubject = $"{_overview.SetupName} Root CA {year}";
            _form.IntermediateSubject = $"{_overview.SetupName} Intermediate CA {year}";
            _form.NewGroupId = $"{SafeId(_overview.SetupName)}-devices-{year}";
        }
    }

    private async Task LoadAsync()
    {
        var result = await Reader.GetRolloverAsync(_user, Id);
        _overview = result.Value;
        _loadError = result.Error;
    }

    private Task<bool> StartAsync() => _action.RunAsync("Creating the new CA", async _ =>
    {
        var result = await Starter.StartRolloverAsync(_user, Id, _form);
        await LoadAsync();
        return result.Error;
    });

    private Task<bool> RunAsync(RolloverStep step) => _action.RunAsync(RolloverSteps.Title(step), async progress =>
    {
        PortalError? error;
        if (step == RolloverStep.Reissue)
        {
            var result = await Reissue.ReissueDevicesAsync(_user, Id, progress);
            _reissued = result.Value ?? _reissued;
            error = result.Error;
        }
        else
        {
            var result = step switch
            {
                RolloverStep.Upload => await CaSteps.UploadNewCaAsync(_user, Id),
                RolloverStep.Prove => await CaSteps.ProveNewCaAsync(_user, Id, progress),
                RolloverStep.Trust => await GroupSteps.TrustNewCaAsync(_user, Id),
                _ => await GroupSteps.RetireOldCaAsync(_user, Id),
            };
            error = result.Error;
        }

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
        RolloverStep.Prove => rollover.NewCa.IsVerified ? "verified" : "DPS's verification code, signed with the new CA's key on the server",
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
