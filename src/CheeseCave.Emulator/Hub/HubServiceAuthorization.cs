using System.Globalization;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// Checks a hub service SAS ("SharedAccessSignature sr={hub}.azure-devices.net&amp;sig=..&amp;skn={policy}&amp;se=..")
/// against the hub's shared access policies, for HTTPS and AMQP alike: the hub is the one named by sr, and the
/// policy must have one of the rights the call needs. A refusal is one sentence saying why.
/// </summary>
internal static class HubServiceAuthorization
{
    public static (string? HubName, string? Refusal) Check(EmulatorContext context, string? authorization, string[] anyOf, string what)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(anyOf);
        if (!SharedAccessSignatures.TryParse(authorization, out var token, out _, out _) || token is null)
        {
            return (null, "the token (Authorization header, or CBS put-token) must be 'SharedAccessSignature sr={hub}.azure-devices.net&sig=..&skn={policy}&se=..'");
        }

        if (SharedAccessSignatures.IsExpired(token, context.Time.GetUtcNow()))
        {
            return (null, $"the SAS token expired at {token.ExpiresAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}");
        }

        var host = token.Resource.Split('/')[0].ToLowerInvariant();
        var hubName = RegistrationJson.HubName(host);
        var candidates = new List<(string? Key, string Rights)>();
        var hub = context.Store.IotHubs.Get(ArmKeys.IotHub(hubName));
        if (hub is not null && string.Equals(hub.HostName, host, StringComparison.OrdinalIgnoreCase))
        {
            foreach (var policy in hub.AuthorizationPolicies.Where(p => string.Equals(p.KeyName, token.KeyName, StringComparison.OrdinalIgnoreCase)))
            {
                candidates.Add((policy.PrimaryKey, policy.Rights));
                candidates.Add((policy.SecondaryKey, policy.Rights));
            }
        }
        else
        {
            // A hub linked to a DPS by connection string only (not created through ARM here): trust that string.
            foreach (var linked in context.Store.ProvisioningServices.All.SelectMany(d => d.IotHubs).Where(h => string.Equals(h.HostName, host, StringComparison.OrdinalIgnoreCase)))
            {
                var parts = ConnectionStrings.Parse(linked.ConnectionString);
                if (string.Equals(parts.GetValueOrDefault("SharedAccessKeyName"), token.KeyName, StringComparison.OrdinalIgnoreCase))
                {
                    candidates.Add((parts.GetValueOrDefault("SharedAccessKey"), "RegistryWrite, ServiceConnect, DeviceConnect"));
                }
            }
        }

        if (candidates.Count == 0)
        {
            return (null, $"IoT hub '{host}' has no shared access policy '{token.KeyName}' in this emulator");
        }

        var match = candidates.FirstOrDefault(c => SharedAccessSignatures.VerifySignature(token, c.Key));
        if (match.Key is null)
        {
            return (null, $"the signature does not verify with the keys of policy '{token.KeyName}' of '{host}'");
        }

        if (!anyOf.Any(right => match.Rights.Contains(right, StringComparison.OrdinalIgnoreCase)))
        {
            return (null, $"policy '{token.KeyName}' has rights '{match.Rights}', and {what} needs {string.Join(" or ", anyOf)}");
        }

        return (hubName, null);
    }
}
