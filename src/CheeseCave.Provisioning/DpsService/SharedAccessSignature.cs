using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace CheeseCave.Provisioning.DpsService;

/// <summary>
/// A DPS/IoT Hub shared access signature: HMAC-SHA256 with the base64-decoded key over "sr\nse". sr is sent exactly
/// as given and signed exactly as sent (the host for the service API, as the Node SDK does).
/// </summary>
public static class SharedAccessSignature
{
    public static string Create(string resource, string keyName, string key, DateTimeOffset expiresOn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resource);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyName);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var expiry = expiresOn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        byte[] keyBytes;
        try
        {
            keyBytes = Convert.FromBase64String(key);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException("The shared access key is not base64; copy it from the policy's keys.", nameof(key), ex);
        }

        var signature = Convert.ToBase64String(HMACSHA256.HashData(keyBytes, Encoding.UTF8.GetBytes(resource + "\n" + expiry)));
        return $"SharedAccessSignature sr={resource}&sig={WebUtility.UrlEncode(signature)}&skn={Uri.EscapeDataString(keyName)}&se={expiry}";
    }
}

/// <summary>A DPS service connection string: HostName=..;SharedAccessKeyName=..;SharedAccessKey=.. (ToString hides the key).</summary>
public sealed record DpsServiceConnectionString(string HostName, string SharedAccessKeyName, string SharedAccessKey)
{
    public static DpsServiceConnectionString Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var parts = Arm.ConnectionStrings.Parse(connectionString);
        string Required(string name) => parts.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"The DPS connection string lacks {name}: it must look like HostName=<dps host>;SharedAccessKeyName=<policy>;SharedAccessKey=<key>.");
        var connection = new DpsServiceConnectionString(Required("HostName"), Required("SharedAccessKeyName"), Required("SharedAccessKey"));
        if (!Convert.TryFromBase64String(connection.SharedAccessKey, new byte[connection.SharedAccessKey.Length], out _))
        {
            throw new FormatException("The SharedAccessKey of the DPS connection string is not base64.");
        }

        return connection;
    }

    public override string ToString() => $"HostName={HostName};SharedAccessKeyName={SharedAccessKeyName};SharedAccessKey=****";
}
