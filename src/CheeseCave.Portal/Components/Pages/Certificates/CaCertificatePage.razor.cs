using CheeseCave.Portal.Common;
using CheeseCave.Portal.Setups.Revocation;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using StepAction = CheeseCave.Portal.Components.Wizards.Setups.StepAction;

namespace CheeseCave.Portal.Components.Pages.Certificates;

/// <summary>One CA certificate: its facts, and (Operator) revoking it after a plain warning of what it shuts out.</summary>
public partial class CaCertificatePage
{
    private CaCertificateDetails? _details;
    private CaRevocationImpact? _impact;
    private PortalError? _error;
    private PortalError? _impactError;
    private ApprovalTicket? _ticket;
    private string? _done;
    private bool _confirming;
    private StepAction _action = null!;

    [Parameter]
    public int Id { get; set; }

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private DeviceCertificateReader Reader { get; set; } = default!;

    [Inject]
    private CaRevocationHandler Revocation { get; set; } = default!;

    protected override void OnInitialized() => _action = new StepAction(() => InvokeAsync(StateHasChanged));

    protected override async Task OnParametersSetAsync()
    {
        var user = (await AuthenticationState).User;
        var details = await Reader.GetCaAsync(user, Id);
        (_details, _error) = (details.Value, details.Error);
        if (_details is { Certificate.RetiredAt: null })
        {
            var impact = await Revocation.ImpactAsync(user, Id);
            (_impact, _impactError) = (impact.Value, impact.Error);
        }
    }

    private async Task RevokeAsync()
    {
        _confirming = false;
        var user = (await AuthenticationState).User;
        var ok = await _action.RunAsync("Revoking the CA: disabling its enrollment groups, deleting its DPS certificate", async _ =>
        {
            var result = await Revocation.RevokeCaAsync(user, Id);
            _ticket = result.Pending;
            _done = result.Value?.Summary;
            return result.Error;
        });
        if (ok && _ticket is null)
        {
            var details = await Reader.GetCaAsync(user, Id);
            _details = details.Value ?? _details;
        }
    }
}
