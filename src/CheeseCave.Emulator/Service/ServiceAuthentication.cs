using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Service;

/// <summary>The rights of DPS shared access policies.</summary>
internal static class DpsRights
{
    public const string ServiceConfig = "ServiceConfig";
    public const string EnrollmentRead = "EnrollmentRead";
    public const string EnrollmentWrite = "EnrollmentWrite";
    public const string DeviceConnect = "DeviceConnect";
    public const string RegistrationStatusRead = "RegistrationStatusRead";
    public const string RegistrationStatusWrite = "RegistrationStatusWrite";
}

/// <summary>
/// Finds which DPS a service-API request is for. All DPS instances share the emulator's host, so the SAS token
/// decides: the DPS whose policy (named by skn) has a key that made the signature. The token's sr must name the
/// host the client addressed (the emulator's host, with or without port) or "{dps}.azure-devices-provisioning.net".
/// </summary>
internal static class ServiceAuthentication
{
    public const string DpsHostSuffix = ".azure-devices-provisioning.net";

    public static (ProvisioningServiceEntity? Dps, ServiceError? Error) Authenticate(HttpContext http, EmulatorContext ctx, string right)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(ctx);
        var header = http.Request.Headers.Authorization.ToString();
        if (!SharedAccessSignatures.TryParse(header, out var token, out var failure, out var error))
        {
            if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                error = "The emulator's DPS service API accepts only SharedAccessSignature tokens, not Bearer (Entra ID) tokens: "
                    + "use a connection string of a DPS shared access policy (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...).";
            }

            return (null, Unauthorized(failure, error));
        }

        var now = ctx.Time.GetUtcNow();
        if (SharedAccessSignatures.IsExpired(token!, now))
        {
            return (null, Unauthorized(SasOutcome.Expired, SharedAccessSignatures.ExpiredMessage(token!)));
        }

        var hosts = EmulatorHosts(http, ctx);
        var path = http.Request.Path.Value ?? string.Empty;
        SasValidation? best = null;
        ProvisioningServiceEntity? bestDps = null;
        foreach (var dps in ctx.Store.ProvisioningServices.All.OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase))
        {
            var dpsHosts = hosts.Append(dps.Name.ToLowerInvariant() + DpsHostSuffix).ToArray();
            var result = SharedAccessSignatures.Validate(token!, dps.AuthorizationPolicies, [.. dpsHosts.Select(h => h + path)], now);
            if (result.IsValid)
            {
                if (!SharedAccessSignatures.HasRight(result.Policy!, right))
                {
                    return (null, Unauthorized(SasOutcome.Valid,
                        $"The shared access policy '{result.Policy!.KeyName}' of the DPS '{dps.Name}' lacks the '{right}' right needed for {http.Request.Method} {path} "
                        + $"(it has: {(string.IsNullOrWhiteSpace(result.Policy.Rights) ? "none" : result.Policy.Rights)}). Use a policy with {right}, such as provisioningserviceowner.",
                        "missingRight"));
                }

                return (dps, null);
            }

            if (best is null || Rank(result.Outcome) > Rank(best.Outcome))
            {
                best = result;
                bestDps = dps;
            }
        }

        if (best is null || best.Outcome == SasOutcome.UnknownKeyName)
        {
            var message = token!.KeyName is null
                ? "The SharedAccessSignature has no 'skn' field: name the DPS shared access policy whose key signed it."
                : $"No DPS in this emulator has a shared access policy named '{token.KeyName}'. Use a key name from the DPS's listkeys (for example provisioningserviceowner).";
            return (null, Unauthorized(SasOutcome.UnknownKeyName, message));
        }

        if (best.Outcome == SasOutcome.WrongResource)
        {
            var expected = string.Join(", ", hosts.Append(bestDps!.Name.ToLowerInvariant() + DpsHostSuffix).Distinct(StringComparer.OrdinalIgnoreCase).Select(h => "'" + h + "'"));
            return (null, Unauthorized(SasOutcome.WrongResource,
                $"The token was signed for '{token!.Resource}', which is not this DPS service endpoint. Its sr must be the host you connect to: one of {expected}."));
        }

        return (null, Unauthorized(best.Outcome, best.Outcome == SasOutcome.BadSignature
            ? $"The signature does not match the keys of the shared access policy '{token!.KeyName}' of any DPS in this emulator. Sign sr + \"\\n\" + se with HMAC-SHA256 keyed with the base64-decoded primary or secondary key."
            : best.Message));
    }

    /// <summary>The host names a client may have used for the emulator: its advertised host (with and without port), the Host header and the bind address.</summary>
    internal static List<string> EmulatorHosts(HttpContext http, EmulatorContext ctx)
    {
        var hosts = new List<string>();
        void Add(string? host)
        {
            if (string.IsNullOrWhiteSpace(host)) return;
            host = host.Trim();
            if (!hosts.Contains(host, StringComparer.OrdinalIgnoreCase)) hosts.Add(host);
            var colon = host.LastIndexOf(':');
            if (colon > 0 && !host.EndsWith(']') && host.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                Add(host[..colon]);
            }
        }

        Add(ctx.HttpsHost);
        Add(http.Request.Host.Value);
        var port = http.Connection.LocalPort;
        Add(port is 0 or 443 ? ctx.Options.BindAddress : $"{ctx.Options.BindAddress}:{port}");
        return hosts;
    }

    private static int Rank(SasOutcome outcome) => outcome switch
    {
        SasOutcome.WrongResource => 3,
        SasOutcome.BadSignature => 2,
        SasOutcome.UnknownKeyName => 1,
        _ => 0,
    };

    private static ServiceError Unauthorized(SasOutcome outcome, string message, string? reason = null) =>
        new(401, ErrorCodes.Unauthorized, message, new JsonObject
        {
            ["reason"] = reason ?? outcome switch
            {
                SasOutcome.Missing => "missingToken",
                SasOutcome.Malformed => "malformedToken",
                SasOutcome.Expired => "tokenExpired",
                SasOutcome.UnknownKeyName => "unknownKeyName",
                SasOutcome.BadSignature => "badSignature",
                SasOutcome.WrongResource => "wrongHost",
                _ => "unauthorized",
            },
        });
}
