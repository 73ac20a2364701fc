using System.Globalization;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>
/// Sends the notice as a plain-text e-mail through the configured SMTP server (MailKit): STARTTLS required unless the
/// settings say None, and the optional user name and password from configuration. A refused connection, a timeout or a
/// temporary (4xx) answer is tried again after a short wait; a permanent refusal is final.
/// </summary>
public sealed class EmailNotifier(IOptions<ExpiryWatchOptions> options, TimeProvider time) : IExpiryNotifier
{
    public string Channel => "email";

    public bool IsEnabled => options.Value.Email.Enabled;

    public async Task SendAsync(ExpiryMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var settings = options.Value.Email;
        using var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(settings.From!));
        foreach (var to in settings.To)
        {
            mail.To.Add(MailboxAddress.Parse(to));
        }

        mail.Subject = message.Subject;
        mail.Date = message.At;
        mail.Body = new TextPart("plain") { Text = message.EmailBody };

        var server = $"{settings.Host}:{settings.Port.ToString(CultureInfo.InvariantCulture)}";
        string? problem = null;
        for (var attempt = 1; attempt <= settings.MaxAttempts; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.Timeout);
            try
            {
                using var smtp = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
                var security = settings.Security == SmtpSecurity.None ? SecureSocketOptions.None : SecureSocketOptions.StartTls;
                await smtp.ConnectAsync(settings.Host ?? "", settings.Port, security, timeout.Token).ConfigureAwait(false);
                if (!string.IsNullOrEmpty(settings.UserName))
                {
                    await smtp.AuthenticateAsync(settings.UserName, settings.Password ?? "", timeout.Token).ConfigureAwait(false);
                }

                await smtp.SendAsync(mail, timeout.Token).ConfigureAwait(false);
                await smtp.DisconnectAsync(quit: true, timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (AuthenticationException)
            {
                throw new ExpiryDeliveryException($"The SMTP server {server} refused the user name or password; check {ExpiryWatchOptions.SectionName}:Email:UserName and Password.");
            }
            catch (SmtpCommandException ex) when (ex.StatusCode < SmtpStatusCode.CommandUnrecognized && (int)ex.StatusCode >= 400)
            {
                problem = $"The SMTP server {server} answered {(int)ex.StatusCode}: {ex.Message}";
            }
            catch (SmtpCommandException ex)
            {
                throw new ExpiryDeliveryException($"The SMTP server {server} refused the message ({(int)ex.StatusCode}: {ex.Message}); check the From and To addresses.");
            }
            catch (NotSupportedException)
            {
                throw new ExpiryDeliveryException($"The SMTP server {server} does not offer STARTTLS; use a server that does, or set {ExpiryWatchOptions.SectionName}:Email:Security to None for a trusted relay.");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                problem = $"The SMTP server {server} did not answer within {settings.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} seconds";
            }
            catch (Exception ex) when (ex is SocketException or IOException or ServiceNotConnectedException or SmtpProtocolException or SslHandshakeException)
            {
                problem = $"The SMTP server {server} could not be reached ({ex.Message.TrimEnd('.')})";
            }

            if (attempt < settings.MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(2 * attempt), time, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new ExpiryDeliveryException($"{problem} after {settings.MaxAttempts.ToString(CultureInfo.InvariantCulture)} attempt(s); the next check tries again.");
    }
}
