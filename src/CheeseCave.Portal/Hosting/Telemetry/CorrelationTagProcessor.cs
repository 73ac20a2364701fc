using System.Diagnostics;
using CheeseCave.Provisioning.Diagnostics;
using OpenTelemetry;

namespace CheeseCave.Portal.Hosting.Telemetry;

/// <summary>
/// Puts the audit trail's correlation id (the W3C trace id, see <c>CorrelationIds.Current</c>) on every exported span
/// as <c>cheesecave.correlation_id</c>, so an id copied from the audit page finds the request, the portal action and
/// each ARM or DPS call it made with a plain tag search.
/// </summary>
internal sealed class CorrelationTagProcessor : BaseProcessor<Activity>
{
    public override void OnStart(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.GetTagItem(ProvisioningTelemetry.CorrelationTag) is null)
        {
            data.SetTag(ProvisioningTelemetry.CorrelationTag, data.TraceId.ToHexString());
        }
    }
}
