using System.Security.Claims;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Provisioning.DpsService;
using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Components.Wizards.Setups;

/// <summary>Step 8: the X.509 enrollment group: CA, hubs, allocation, re-provisioning, initial twin; read live from the DPS.</summary>
public sealed partial class EnrollmentStep
{
    [Parameter, EditorRequired]
    public SetupView View { get; set; } = default!;

    [Parameter, EditorRequired]
    public ClaimsPrincipal User { get; set; } = default!;

    [Parameter]
    public EventCallback<int?> OnChanged { get; set; }

    private readonly EnrollmentGroupForm _form = new();
    private readonly HashSet<string> _hubs = new(StringComparer.OrdinalIgnoreCase);
    private NameCheck _idCheck = new(true, null);
    private string? _tagsProblem;
    private string? _desiredProblem;
    private EnrollmentGroupView? _live;
    private bool _loading;
    private bool _saved;
    private readonly StepAction _action;

    public EnrollmentStep() => _action = new StepAction(StateHasChanged);

    private IReadOnlyList<SetupCertificateView> VerifiedCas => [.. View.Certificates.Where(c => c.IsVerified && c.DpsCertificateName is not null)];

    private bool ReadOnly => !View.CanChange || _action.IsBusy;

    private bool CanSave => _idCheck.IsValid && !string.IsNullOrWhiteSpace(_form.GroupId) && !string.IsNullOrEmpty(_form.PrimaryCa) && _tagsProblem is null && _desiredProblem is null;

    protected override async Task OnInitializedAsync()
    {
        _form.GroupId = View.EnrollmentGroupId ?? SuggestId(View.Name);
        _form.PrimaryCa = VerifiedCas.Count > 0 ? VerifiedCas[0].DpsCertificateName! : "";
        _form.TagsJson = "{\n  \"cave\": \"" + SuggestId(View.Name) + "\"\n}";
        if (View.EnrollmentGroupId is not null)
        {
            await ReadLiveAsync();
        }
    }

    /// <summary>The group as the DPS has it now (someone may have changed it elsewhere).</summary>
    private async Task ReadLiveAsync()
    {
        _loading = true;
        var result = await Enrollment.GetEnrollmentGroupAsync(User, View.Id);
        _loading = false;
        _action.Show(result.Error, ReadLiveAsync);
        if (result.Value is { } live)
        {
            Load(live);
        }
    }

    private void Load(EnrollmentGroupView live)
    {
        _live = live;
        _form.GroupId = live.GroupId;
        _form.PrimaryCa = live.PrimaryCa ?? _form.PrimaryCa;
        _form.SecondaryCa = live.SecondaryCa;
        _hubs.Clear();
        _hubs.UnionWith(live.Hubs);
        _form.AllocationPolicy = live.AllocationPolicy ?? AllocationPolicy.Hashed;
        _form.Reprovision = live.Reprovision;
        _form.TagsJson = live.TagsJson;
        _form.DesiredJson = live.DesiredJson;
        _form.IotEdge = live.IotEdge;
        _form.Enabled = live.Enabled;
    }

    private static string Describe(AllocationPolicy? policy) => policy switch
    {
        AllocationPolicy.Hashed => "evenly weighted",
        AllocationPolicy.GeoLatency => "lowest latency",
        AllocationPolicy.Static => "static",
        AllocationPolicy.Custom => "custom",
        _ => "DPS default allocation",
    };

    private void ToggleHub(string hub, bool on)
    {
        if (on)
        {
            _hubs.Add(hub);
        }
        else
        {
            _hubs.Remove(hub);
        }
    }

    private static string SuggestId(string name)
    {
        var id = new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        return string.IsNullOrEmpty(id) ? "cheese-caves" : id;
    }

    private async Task SaveAsync()
    {
        _saved = false;
        _form.Hubs = [.. _hubs];
        var ok = await _action.RunAsync("Saving the enrollment group…", async _ =>
        {
            var result = await Enrollment.SaveEnrollmentGroupAsync(User, View.Id, _form);
            if (result.Value is { } saved)
            {
                Load(saved);
                _saved = true;
            }

            return result.Error;
        });
        if (ok)
        {
            await OnChanged.InvokeAsync(null);
        }
    }
}
