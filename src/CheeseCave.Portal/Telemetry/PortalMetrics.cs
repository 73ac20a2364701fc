using System.Diagnostics.Metrics;

namespace CheeseCave.Portal.Telemetry;

/// <summary>
/// The portal's business metrics (meter <see cref="MeterName"/>), recorded where the events happen. Static so that
/// recording is one line at each place; an instrument with no listener (telemetry off) costs a field read.
/// </summary>
public static class PortalMetrics
{
    public const string MeterName = "CheeseCave.Portal";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Issued = Meter.CreateCounter<long>(
        "cheesecave.certificates.issued", "{certificate}", "Certificates the portal's CAs issued, by kind (root, intermediate, device) and source.");

    private static readonly Counter<long> Tested = Meter.CreateCounter<long>(
        "cheesecave.registrations.tested", "{registration}", "Test registrations run against DPS, by outcome.");

    private static readonly Histogram<double> Durations = Meter.CreateHistogram<double>(
        "cheesecave.operation.duration", "s", "How long the long setup operations (creating a DPS or hub, proof of possession, device issuance) took, by kind and outcome.");

    /// <summary>Certificates issued under one of the portal's CAs (not imported ones).</summary>
    public static void CertificatesIssued(string kind, string source, int count = 1)
    {
        if (count > 0)
        {
            Issued.Add(count, new KeyValuePair<string, object?>("cheesecave.certificate.kind", kind), new KeyValuePair<string, object?>("cheesecave.certificate.source", source));
        }
    }

    public static void RegistrationTested(string outcome) =>
        Tested.Add(1, new KeyValuePair<string, object?>("cheesecave.outcome", outcome));

    public static void OperationEnded(string kind, string outcome, TimeSpan duration) =>
        Durations.Record(Math.Max(0, duration.TotalSeconds), new KeyValuePair<string, object?>("cheesecave.operation.kind", kind), new KeyValuePair<string, object?>("cheesecave.outcome", outcome));
}
