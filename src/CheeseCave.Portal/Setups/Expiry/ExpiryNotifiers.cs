namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>A way to deliver expiry notices (the webhook, e-mail). Each is optional and configured on its own.</summary>
public interface IExpiryNotifier
{
    /// <summary>The stored channel name ("webhook", "email"): part of "sent once per certificate, threshold and channel".</summary>
    string Channel { get; }

    bool IsEnabled { get; }

    /// <summary>Delivers the message, retrying what is worth retrying; throws <see cref="ExpiryDeliveryException"/> when it could not.</summary>
    Task SendAsync(ExpiryMessage message, CancellationToken cancellationToken);
}

/// <summary>A notice that could not be delivered, in one plain sentence without secrets (no URL path, no password).</summary>
public sealed class ExpiryDeliveryException : Exception
{
    public ExpiryDeliveryException()
    {
    }

    public ExpiryDeliveryException(string message)
        : base(message)
    {
    }

    public ExpiryDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
