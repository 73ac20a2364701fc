using System.Diagnostics;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Diagnostics;

/// <summary>
/// The spans of the provisioning clients: one per ARM request or SDK call, and one per DPS service, IoT hub registry
/// or device registration call (all attempts of its retry loop). Nothing is recorded unless a listener (OpenTelemetry)
/// subscribes to <see cref="SourceName"/>. Tags hold names and paths only: never a query string, header or body.
/// </summary>
public static class ProvisioningTelemetry
{
    public const string SourceName = "CheeseCave.Provisioning";

    /// <summary>
    /// The id the portal's audit trail shows for the action that made the call: the W3C trace id the span runs under,
    /// tagged explicitly so a backend can search for the audit's value without knowing that it is a trace id.
    /// </summary>
    public const string CorrelationTag = "cheesecave.correlation_id";

    public const string ApiTag = "cheesecave.provisioning.api";

    public const string ActionTag = "cheesecave.provisioning.action";

    public const string AttemptsTag = "cheesecave.provisioning.attempts";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>A client span for one call, or null when nobody listens (the cheap, default case).</summary>
    internal static Activity? Start(ProvisioningSurface surface, string action, string? method = null, string? path = null)
    {
        var activity = Source.StartActivity(method is null ? $"{Api(surface)} call" : $"{Api(surface)} {method}", ActivityKind.Client);
        if (activity is null)
        {
            return null;
        }

        activity.SetTag(CorrelationTag, activity.TraceId.ToHexString());
        activity.SetTag(ApiTag, Api(surface));
        activity.SetTag(ActionTag, action);
        if (method is not null)
        {
            activity.SetTag("http.request.method", method);
        }

        if (path is not null)
        {
            activity.SetTag("url.path", path);
        }

        return activity;
    }

    /// <summary>
    /// Marks the span failed with the error's type or, for a service answer, its status. Always false, so that it
    /// can run as an exception filter and leave the exception and its stack untouched.
    /// </summary>
    internal static bool Failed(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return false;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
        activity.SetTag("error.type", exception is ProvisioningException { Status: > 0 } failure ? failure.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : exception.GetType().FullName);
        return false;
    }

    /// <summary>The host a data-plane call went to (a DPS or an IoT hub), on the call's span.</summary>
    internal static void Server(Uri? address)
    {
        if (address is { IsAbsoluteUri: true } && Current is { } activity)
        {
            activity.SetTag("server.address", address.Host);
        }
    }

    /// <summary>How many attempts the call's retry loop has made so far, on the call's span.</summary>
    internal static void Attempt(int number) => Current?.SetTag(AttemptsTag, number);

    /// <summary>The current span when it is one of ours (never a caller's span that happens to be current).</summary>
    private static Activity? Current => Activity.Current is { } activity && ReferenceEquals(activity.Source, Source) ? activity : null;

    private static string Api(ProvisioningSurface surface) => surface switch
    {
        ProvisioningSurface.Arm => "arm",
        ProvisioningSurface.Service => "dps-service",
        ProvisioningSurface.Device => "dps-device",
        _ => surface.ToString().ToLowerInvariant(),
    };
}
