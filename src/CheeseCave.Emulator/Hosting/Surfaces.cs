namespace CheeseCave.Emulator.Hosting;

internal enum Surface
{
    Arm,
    Service,
    Device,
}

/// <summary>Which API a request belongs to, from its path alone (all three share one host and port).</summary>
internal static class Surfaces
{
    public static Surface Of(PathString path)
    {
        var value = path.Value ?? string.Empty;
        if (value.StartsWith("/subscriptions", StringComparison.OrdinalIgnoreCase) || value.StartsWith("/providers/", StringComparison.OrdinalIgnoreCase))
        {
            return Surface.Arm;
        }

        // Device API: /{idScope}/registrations/{registrationId}[/register|/operations/{id}]
        var segments = value.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 3 && segments[1].Equals("registrations", StringComparison.OrdinalIgnoreCase)
            && !segments[0].Equals("registrations", StringComparison.OrdinalIgnoreCase))
        {
            return Surface.Device;
        }

        return Surface.Service;
    }
}
