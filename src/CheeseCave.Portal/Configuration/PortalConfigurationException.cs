namespace CheeseCave.Portal.Configuration;

/// <summary>The portal's configuration is unusable; the message names the setting to fix.</summary>
public sealed class PortalConfigurationException : Exception
{
    public PortalConfigurationException()
    {
    }

    public PortalConfigurationException(string message)
        : base(message)
    {
    }

    public PortalConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
