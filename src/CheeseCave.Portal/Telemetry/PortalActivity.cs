using System.Diagnostics;

namespace CheeseCave.Portal.Telemetry;

/// <summary>
/// The portal's own spans (source <see cref="SourceName"/>): one per setup change or read run through the
/// SetupPipeline. Here, apart from the OpenTelemetry registration in Hosting, so that the slices that start spans and
/// record metrics depend on this small folder only. With telemetry off the source has no listener and starts nothing.
/// </summary>
public static class PortalActivity
{
    public const string SourceName = "CheeseCave.Portal";

    public const string ActionTag = "cheesecave.action";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The span of one portal action (a setup change or an Azure read through the pipeline), or null when telemetry
    /// is off. The audit entries written inside it carry its trace id as their correlation id.
    /// </summary>
    public static Activity? StartAction(string action, int? setupId = null)
    {
        var activity = Source.StartActivity($"cheesecave {action}");
        if (activity is null)
        {
            return null;
        }

        activity.SetTag(ActionTag, action);
        if (setupId is { } id)
        {
            activity.SetTag("cheesecave.setup_id", id);
        }

        return activity;
    }
}
