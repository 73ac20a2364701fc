using CheeseCave.Emulator.Arm;
using CheeseCave.Emulator.Service;
using Microsoft.AspNetCore.Connections.Features;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// Makes a configured share of requests fail the way Azure sometimes does: 429 with Retry-After, 503, added
/// latency or a dropped connection, per surface, so client retry logic can be tested against real sockets.
/// </summary>
internal sealed class FaultInjectionMiddleware(RequestDelegate next, EmulatorContext context)
{
    private readonly Random _random = context.Options.Faults.Seed is { } seed ? new Random(seed) : Random.Shared;
    private readonly object _gate = new();

    public async Task InvokeAsync(HttpContext http)
    {
        var surface = Surfaces.Of(http.Request.Path);
        var faults = surface switch
        {
            Surface.Arm => context.Options.Faults.Arm,
            Surface.Device => context.Options.Faults.Device,
            _ => context.Options.Faults.Service,
        };
        if (!faults.Any)
        {
            await next(http).ConfigureAwait(false);
            return;
        }

        if (faults.AddedLatencyMs > 0)
        {
            await Task.Delay(faults.AddedLatencyMs, http.RequestAborted).ConfigureAwait(false);
        }

        double roll;
        lock (_gate)
        {
            roll = _random.NextDouble();
        }

        if (roll < faults.DropConnectionRate)
        {
            // Close the TCP connection without an HTTP answer, like a load balancer reset.
            http.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
            http.Abort();
            return;
        }

        roll -= faults.DropConnectionRate;
        if (roll < faults.ThrottleRate)
        {
            http.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await (surface == Surface.Arm ? ArmErrors.InjectedThrottling().ToResult() : ServiceErrors.InjectedThrottling().ToResult(http)).ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        roll -= faults.ThrottleRate;
        if (roll < faults.UnavailableRate)
        {
            await (surface == Surface.Arm ? ArmErrors.InjectedUnavailability().ToResult() : ServiceErrors.InjectedUnavailability().ToResult(http)).ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        await next(http).ConfigureAwait(false);
    }
}
