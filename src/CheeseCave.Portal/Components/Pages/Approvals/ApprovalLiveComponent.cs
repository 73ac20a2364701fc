using CheeseCave.Portal.Approvals;
using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Components.Pages.Approvals;

/// <summary>
/// The invisible half of eShop's notifier pattern: subscribes to <see cref="ApprovalEvents"/> once the component is
/// interactive (never while prerendering), re-enters its circuit with InvokeAsync, routes failures to
/// DispatchExceptionAsync, and unsubscribes when disposed.
/// </summary>
public abstract class ApprovalLiveComponent : ComponentBase, IDisposable
{
    private IDisposable? _subscription;

    [Inject]
    private ApprovalEvents Events { get; set; } = default!;

    /// <summary>Whether this component cares about the change (it is then re-read and re-rendered).</summary>
    protected virtual bool Concerns(ApprovalChange change) => true;

    protected abstract Task OnApprovalChangedAsync(ApprovalChange change);

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            _subscription = Events.Subscribe(NotifiedAsync);
        }
    }

    private Task NotifiedAsync(ApprovalChange change) => !Concerns(change) ? Task.CompletedTask : InvokeAsync(async () =>
    {
        try
        {
            await OnApprovalChangedAsync(change);
            StateHasChanged();
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
    });

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _subscription?.Dispose();
            _subscription = null;
        }
    }
}
