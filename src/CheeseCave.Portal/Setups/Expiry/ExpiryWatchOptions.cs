using MimeKit;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>The <c>CheeseCave:ExpiryWatch</c> section: when the check runs, which thresholds notify, and where notices go.</summary>
public sealed class ExpiryWatchOptions
{
    public const string SectionName = "CheeseCave:ExpiryWatch";

    /// <summary>False stops the background check (the overview still lists what expires).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between checks; the first runs when the portal starts.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Days before the end of validity at which a notice goes out (plus one when it has expired). Null: 90 and 30.</summary>
    public List<int>? ThresholdDays { get; set; }

    public WebhookNotifierOptions Webhook { get; set; } = new();

    public EmailNotifierOptions Email { get; set; } = new();

    /// <summary>The thresholds in effect, nearest first (30, 90).</summary>
    public IReadOnlyList<int> Thresholds => [.. (ThresholdDays is { Count: > 0 } days ? days : [90, 30]).Distinct().Order()];
}

/// <summary>A JSON POST per batch of notices (Teams/Slack-compatible: a top-level "text").</summary>
public sealed class WebhookNotifierOptions
{
    /// <summary>Where to POST; empty turns the webhook off. Treated as a secret (chat webhook URLs carry their token).</summary>
    public string? Url { get; set; }

    /// <summary>When set, each POST carries <c>X-CheeseCave-Signature: sha256=&lt;HMAC-SHA256 of the body, hex&gt;</c>.</summary>
    public string? Secret { get; set; }

    /// <summary>An extra header for gateways that want a static key (e.g. "X-Api-Key"), with <see cref="HeaderValue"/>.</summary>
    public string? HeaderName { get; set; }

    public string? HeaderValue { get; set; }

    /// <summary>Attempts per POST (server errors, 408, 429 and timeouts are retried; other answers are not).</summary>
    public int MaxAttempts { get; set; } = 4;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first wait between attempts; doubled each time, unless the receiver says Retry-After.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait honoured, whether from backoff or Retry-After.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(2);

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Url);
}

public enum SmtpSecurity
{
    /// <summary>Upgrade the connection with STARTTLS; refuse to send when the server does not offer it.</summary>
    StartTls,

    /// <summary>Plain SMTP (a relay on the same host or a trusted network only).</summary>
    None,
}

/// <summary>One e-mail per batch of notices, through an SMTP server.</summary>
public sealed class EmailNotifierOptions
{
    public bool Enabled { get; set; }

    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>Optional; with it, <see cref="Password"/> (from configuration or the environment, never shown).</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    public string? From { get; set; }

    public List<string> To { get; set; } = [];

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxAttempts { get; set; } = 3;
}

/// <summary>Every problem with the settings, each naming the setting and what to write instead.</summary>
public static class ExpiryWatchOptionsCheck
{
    /// <summary>A single mailbox with a domain ("ops@example.com" or "Ops &lt;ops@example.com&gt;").</summary>
    public static bool IsAddress(string? text) => MailboxAddress.TryParse(text ?? "", out var mailbox) && mailbox.Address.IndexOf('@', StringComparison.Ordinal) > 0;

    public static IEnumerable<string> Problems(ExpiryWatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Check(options);
    }

    private static IEnumerable<string> Check(ExpiryWatchOptions options)
    {
        const string S = ExpiryWatchOptions.SectionName;
        if (options.Interval < TimeSpan.FromMinutes(1) || options.Interval > TimeSpan.FromDays(7))
        {
            yield return $"{S}:Interval is {options.Interval}; use between 00:01:00 and 7.00:00:00, e.g. 1.00:00:00 (daily).";
        }

        foreach (var days in options.ThresholdDays ?? [])
        {
            if (days is < 1 or > 3650)
            {
                yield return $"{S}:ThresholdDays lists {days}; use whole days from 1 to 3650, e.g. [90, 30].";
            }
        }

        var webhook = options.Webhook;
        if (webhook.IsEnabled && (!Uri.TryCreate(webhook.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || string.IsNullOrEmpty(url.Host)))
        {
            yield return $"{S}:Webhook:Url is not an http(s) address; write the full address, e.g. https://example.webhook.office.com/…, or leave it empty to turn the webhook off.";
        }

        if (string.IsNullOrWhiteSpace(webhook.HeaderName) != string.IsNullOrWhiteSpace(webhook.HeaderValue))
        {
            yield return $"{S}:Webhook:HeaderName and HeaderValue go together; set both or neither.";
        }

        if (webhook.MaxAttempts is < 1 or > 10)
        {
            yield return $"{S}:Webhook:MaxAttempts is {webhook.MaxAttempts}; use 1 to 10.";
        }

        if (webhook.Timeout <= TimeSpan.Zero || webhook.InitialBackoff < TimeSpan.Zero || webhook.MaxBackoff < webhook.InitialBackoff)
        {
            yield return $"{S}:Webhook:Timeout must be positive and MaxBackoff at least InitialBackoff, e.g. 00:00:10, 00:00:02 and 00:02:00.";
        }

        var email = options.Email;
        if (!email.Enabled)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(email.Host))
        {
            yield return $"{S}:Email:Enabled is true but Email:Host is empty; set the SMTP server's host name, or set Enabled to false.";
        }

        if (email.Port is < 1 or > 65535)
        {
            yield return $"{S}:Email:Port is {email.Port}; use the SMTP server's port, e.g. 587 (STARTTLS) or 25.";
        }

        if (!IsAddress(email.From))
        {
            yield return $"{S}:Email:From is not an e-mail address; write the sender, e.g. cheesecave@example.com.";
        }

        if (email.To.Count == 0)
        {
            yield return $"{S}:Email:To is empty; list at least one recipient.";
        }

        foreach (var to in email.To.Where(t => !IsAddress(t)))
        {
            yield return $"{S}:Email:To lists '{to}', which is not an e-mail address.";
        }

        if (!string.IsNullOrEmpty(email.UserName) && string.IsNullOrEmpty(email.Password))
        {
            yield return $"{S}:Email:UserName is set without Email:Password; set the password (e.g. in an environment variable) or remove the user name.";
        }

        if (email.MaxAttempts is < 1 or > 10 || email.Timeout <= TimeSpan.Zero)
        {
            yield return $"{S}:Email:MaxAttempts must be 1 to 10 and Email:Timeout positive.";
        }
    }
}
