using System.Diagnostics;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// Gives every inbound circuit event (a click, a form submit, a navigation) its own trace, so the audit entries of one
/// click share a correlation id and the next click gets a new one. Without this, everything a browser tab does runs
/// under the trace of the long-lived WebSocket request that opened the circuit, and a correlation id would link a
/// whole afternoon's work instead of one action.
/// </summary>
public sealed class CircuitCorrelation : CircuitHandler
{
    public const string ActivityName = "CheeseCave.CircuitEvent";

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            var connectionActivity = Activity.Current;

            // A root activity (no parent) gets a fresh W3C trace id; the connection's activity is restored afterwards.
            Activity.Current = null;
            using var activity = new Activity(ActivityName);
            activity.SetIdFormat(ActivityIdFormat.W3C);
            activity.Start();
            try
            {
                await next(context).ConfigureAwait(true);
            }
            finally
            {
                activity.Stop();
                Activity.Current = connectionActivity;
            }
        };
}
