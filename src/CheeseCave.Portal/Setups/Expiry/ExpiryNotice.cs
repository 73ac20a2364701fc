using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>One certificate that crossed a threshold: what it is, when it ends, and which notice it is due.</summary>
public sealed record ExpiryNotice(
    ExpiryCertificateKind Kind,
    int CertificateId,
    int SetupId,
    string SetupName,
    string Name,
    string Subject,
    string SerialNumber,
    string ThumbprintSha1,
    string ThumbprintSha256,
    DateTimeOffset NotAfter,
    string Threshold,
    int DaysLeft)
{
    public const string Expired = "expired";

    public static string ThresholdName(int days) => days.ToString(CultureInfo.InvariantCulture) + "d";

    /// <summary>The inventory page of this certificate, relative to the portal.</summary>
    public string DetailPath => Kind == ExpiryCertificateKind.Ca
        ? $"certificates/cas/{CertificateId.ToString(CultureInfo.InvariantCulture)}"
        : $"certificates/devices/{CertificateId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>"CA "Cave Root" (setup cave)" / "device cave-001 (setup cave)".</summary>
    public string Label => Kind == ExpiryCertificateKind.Ca ? $"CA \"{Name}\" (setup {SetupName})" : $"device {Name} (setup {SetupName})";

    public string Sentence => Threshold == Expired
        ? $"{Label} expired on {NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}."
        : $"{Label} expires in {DaysLeft.ToString(CultureInfo.InvariantCulture)} day{(DaysLeft == 1 ? "" : "s")}, on {NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}.";
}

/// <summary>
/// What a notifier sends for a batch of notices: a summary line (Teams and Slack show a top-level "text"), the same
/// facts per certificate as structured fields, and a plain-text e-mail body. CAs are listed first: a CA that expires
/// takes every device under it along.
/// </summary>
public sealed class ExpiryMessage
{
    /// <summary>Lines written out in the summary text; the rest are counted (all are in the structured fields).</summary>
    public const int LinesInText = 20;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public ExpiryMessage(IReadOnlyList<ExpiryNotice> notices, DateTimeOffset at, string? publicUrl)
    {
        ArgumentNullException.ThrowIfNull(notices);
        Notices = [.. notices.OrderBy(n => n.Kind == ExpiryCertificateKind.Ca ? 0 : 1).ThenBy(n => n.NotAfter).ThenBy(n => n.Name, StringComparer.Ordinal)];
        At = at;
        PublicUrl = string.IsNullOrWhiteSpace(publicUrl) ? null : publicUrl.TrimEnd('/') + "/";
    }

    public IReadOnlyList<ExpiryNotice> Notices { get; }

    public DateTimeOffset At { get; }

    public string? PublicUrl { get; }

    public string Subject
    {
        get
        {
            var expired = Notices.Count(n => n.Threshold == ExpiryNotice.Expired);
            var count = Notices.Count;
            return expired == count
                ? $"CheeseCave: {count} certificate{(count == 1 ? " has" : "s have")} expired"
                : $"CheeseCave: {count} certificate{(count == 1 ? "" : "s")} expiring soon{(expired > 0 ? $" ({expired} already expired)" : "")}";
        }
    }

    public string Text
    {
        get
        {
            var text = new StringBuilder(Subject).Append(':');
            foreach (var notice in Notices.Take(LinesInText))
            {
                text.Append("\n- ").Append(notice.Sentence);
            }

            if (Notices.Count > LinesInText)
            {
                text.Append("\n- and ").Append((Notices.Count - LinesInText).ToString(CultureInfo.InvariantCulture)).Append(" more.");
            }

            text.Append("\nRenew or replace them before they expire").Append(PublicUrl is null ? "." : $": {PublicUrl}certificates?status=expiring");
            return text.ToString();
        }
    }

    /// <summary>The webhook body: "text" for chat tools, the facts for scripts.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        text = Text,
        source = "cheesecave-portal",
        @event = "certificate-expiry",
        generatedAt = At.UtcDateTime,
        certificates = Notices.Select(n => new
        {
            kind = n.Kind == ExpiryCertificateKind.Ca ? "ca" : "device",
            id = n.CertificateId,
            setupId = n.SetupId,
            setup = n.SetupName,
            name = n.Name,
            subject = n.Subject,
            serialNumber = n.SerialNumber,
            thumbprintSha1 = n.ThumbprintSha1,
            thumbprintSha256 = n.ThumbprintSha256,
            notAfter = n.NotAfter.UtcDateTime,
            daysLeft = n.DaysLeft,
            threshold = n.Threshold,
            url = PublicUrl is null ? null : PublicUrl + n.DetailPath,
        }),
    }, Json);

    public string EmailBody
    {
        get
        {
            var body = new StringBuilder(Text).Append("\n\n");
            foreach (var notice in Notices)
            {
                body.Append(notice.Label).Append('\n')
                    .Append("  Subject:     ").Append(notice.Subject).Append('\n')
                    .Append("  Not after:   ").Append(notice.NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append('\n')
                    .Append("  Serial:      ").Append(notice.SerialNumber).Append('\n')
                    .Append("  SHA-1:       ").Append(notice.ThumbprintSha1).Append('\n')
                    .Append("  SHA-256:     ").Append(notice.ThumbprintSha256).Append('\n');
                if (PublicUrl is not null)
                {
                    body.Append("  Details:     ").Append(PublicUrl).Append(notice.DetailPath).Append('\n');
                }
            }

            return body.Append("\nSent by the CheeseCave Portal's expiry watch: once per certificate and threshold.\n").ToString();
        }
    }
}
