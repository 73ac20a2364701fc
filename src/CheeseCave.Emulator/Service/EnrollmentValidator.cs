using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

using static CheeseCave.Emulator.Service.EnrollmentDocuments;
using static CheeseCave.Emulator.Service.EnrollmentFields;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// One enrollment PUT body's validation and normalisation (the rules of docs/azure-wire.md §5.1); throws
/// <see cref="ServiceErrorException"/> at the first problem, which <see cref="EnrollmentDocuments.Normalize"/> returns.
/// </summary>
internal sealed class EnrollmentValidator(EnrollmentKind kind, ProvisioningServiceEntity dps, EnrollmentEntity? existing, EmulatorStore store)
{
    public JsonObject Run(string urlId, JsonObject body)
    {
        var id = GetString(body, kind.IdField, "the body");
        if (id is not null && !id.Equals(urlId, StringComparison.OrdinalIgnoreCase))
        {
            throw Bad(ErrorCodes.IdMismatch, $"The body's {kind.IdField} '{Shorten(id)}' differs from the id in the URL ('{Shorten(urlId)}'). Send the same id in both, or leave it out of the body.");
        }

        var result = new JsonObject { [kind.IdField] = existing?.Id ?? urlId };
        if (!kind.IsGroup)
        {
            if (GetString(body, "deviceId", "the body") is { } deviceId)
            {
                if (!DeviceIdPattern().IsMatch(deviceId))
                {
                    throw Bad(ErrorCodes.InvalidEnrollmentField,
                        $"deviceId '{Shorten(deviceId)}' is not a valid IoT Hub device id: 1-128 letters, digits and - . + % _ # * ? ! ( ) , : = @ $ '.");
                }

                result["deviceId"] = deviceId;
            }
        }

        result["attestation"] = new AttestationValidator(kind, dps, existing, store).Validate(body);
        result["capabilities"] = Capabilities(body);
        Hubs(body, result);
        result["reprovisionPolicy"] = ReprovisionPolicy(body);
        if (body["initialTwin"] is { } twin)
        {
            result["initialTwin"] = InitialTwin(twin);
        }

        if (!kind.IsGroup && body["optionalDeviceInformation"] is { } info)
        {
            if (info is not JsonObject) throw Bad(ErrorCodes.InvalidEnrollmentField, "optionalDeviceInformation must be a JSON object (a twin collection).");
            result["optionalDeviceInformation"] = info.DeepClone();
        }

        var status = GetString(body, "provisioningStatus", "the body") ?? "enabled";
        if (!status.Equals("enabled", StringComparison.OrdinalIgnoreCase) && !status.Equals("disabled", StringComparison.OrdinalIgnoreCase))
        {
            throw Bad(ErrorCodes.InvalidEnrollmentField, $"provisioningStatus '{Shorten(status)}' is not valid: use 'enabled' or 'disabled'.");
        }

        result["provisioningStatus"] = status.ToLowerInvariant();
        return result;
    }


    private static JsonObject Capabilities(JsonObject body)
    {
        var node = body["capabilities"];
        if (node is null) return new JsonObject { ["iotEdge"] = false };
        if (node is not JsonObject capabilities) throw Bad(ErrorCodes.InvalidEnrollmentField, "capabilities must be a JSON object such as {\"iotEdge\": false}.");
        return new JsonObject { ["iotEdge"] = Bool(capabilities, "iotEdge", "capabilities") ?? false };
    }

    private static JsonObject ReprovisionPolicy(JsonObject body)
    {
        var node = body["reprovisionPolicy"];
        if (node is not null and not JsonObject)
        {
            throw Bad(ErrorCodes.InvalidEnrollmentField, "reprovisionPolicy must be a JSON object such as {\"updateHubAssignment\": true, \"migrateDeviceData\": true}.");
        }

        var policy = node as JsonObject;
        return new JsonObject
        {
            ["updateHubAssignment"] = (policy is null ? null : Bool(policy, "updateHubAssignment", "reprovisionPolicy")) ?? true,
            ["migrateDeviceData"] = (policy is null ? null : Bool(policy, "migrateDeviceData", "reprovisionPolicy")) ?? true,
        };
    }

    private static JsonObject InitialTwin(JsonNode node)
    {
        if (node is not JsonObject twin) throw Bad(ErrorCodes.InvalidEnrollmentField, "initialTwin must be a JSON object: {\"tags\": {...}, \"properties\": {\"desired\": {...}}}.");
        if (twin["tags"] is { } tags and not JsonObject) throw Bad(ErrorCodes.InvalidEnrollmentField, $"initialTwin.tags must be a JSON object, not {Describe(tags)}.");
        if (twin["properties"] is { } properties)
        {
            if (properties is not JsonObject props) throw Bad(ErrorCodes.InvalidEnrollmentField, $"initialTwin.properties must be a JSON object, not {Describe(properties)}.");
            if (props["desired"] is { } desired and not JsonObject)
            {
                throw Bad(ErrorCodes.InvalidEnrollmentField, $"initialTwin.properties.desired must be a JSON object, not {Describe(desired)}.");
            }
        }

        return (JsonObject)twin.DeepClone();
    }

    private void Hubs(JsonObject body, JsonObject result)
    {
        var linked = dps.IotHubs.Select(h => h.HostName).Where(h => h.Length > 0).ToList();
        string Linked(string host, string field)
        {
            var match = linked.FirstOrDefault(h => h.Equals(host, StringComparison.OrdinalIgnoreCase));
            if (match is not null) return match;
            throw Bad(ErrorCodes.IotHubNotLinked,
                $"{field} names the IoT hub '{Shorten(host)}', which is not linked to the DPS '{dps.Name}'. "
                + (linked.Count == 0 ? "The DPS has no linked hubs: link the hub to the DPS first (ARM: properties.iotHubs)." : $"Linked hubs: {string.Join(", ", linked)}."),
                new JsonObject { ["iotHub"] = host });
        }

        List<string>? hubs = null;
        if (body["iotHubs"] is { } hubsNode)
        {
            if (hubsNode is not JsonArray array) throw Bad(ErrorCodes.InvalidEnrollmentField, "iotHubs must be a JSON array of IoT hub host names.");
            hubs = [];
            foreach (var item in array)
            {
                if (item is not JsonValue value || !value.TryGetValue<string>(out var host) || host.Length == 0)
                {
                    throw Bad(ErrorCodes.InvalidEnrollmentField, "iotHubs must hold IoT hub host names (strings such as \"myhub.azure-devices.net\").");
                }

                var canonical = Linked(host, "iotHubs");
                if (!hubs.Contains(canonical)) hubs.Add(canonical);
            }

            result["iotHubs"] = new JsonArray([.. hubs.Select(h => (JsonNode)h)]);
        }

        if (GetString(body, "iotHubHostName", "the body") is { Length: > 0 } legacy)
        {
            result["iotHubHostName"] = Linked(legacy, "iotHubHostName");
        }

        var policy = GetString(body, "allocationPolicy", "the body");
        string? canonicalPolicy = null;
        if (policy is not null)
        {
            canonicalPolicy = AllocationPolicies.FirstOrDefault(p => p.Equals(policy, StringComparison.OrdinalIgnoreCase))
                ?? throw Bad(ErrorCodes.InvalidAllocationPolicy, $"allocationPolicy '{Shorten(policy)}' is not valid: use hashed, geoLatency, static or custom.");
            if (canonicalPolicy == "static" && hubs is not null && hubs.Count != 1)
            {
                throw Bad(ErrorCodes.InvalidAllocationPolicy, $"allocationPolicy static assigns every device to one hub, but iotHubs lists {hubs.Count}. Give exactly one hub.");
            }

            result["allocationPolicy"] = canonicalPolicy;
        }

        if (body["customAllocationDefinition"] is { } custom)
        {
            if (custom is not JsonObject definition) throw Bad(ErrorCodes.InvalidAllocationPolicy, "customAllocationDefinition must be a JSON object with webhookUrl and apiVersion.");
            var url = GetString(definition, "webhookUrl", "customAllocationDefinition");
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw Bad(ErrorCodes.InvalidAllocationPolicy, "customAllocationDefinition.webhookUrl must be an absolute https URL of the allocation function.");
            }

            var apiVersion = GetString(definition, "apiVersion", "customAllocationDefinition");
            if (string.IsNullOrWhiteSpace(apiVersion))
            {
                throw Bad(ErrorCodes.InvalidAllocationPolicy, "customAllocationDefinition.apiVersion is missing: give the DPS api-version the webhook expects, e.g. 2021-10-01.");
            }

            result["customAllocationDefinition"] = new JsonObject { ["webhookUrl"] = url, ["apiVersion"] = apiVersion };
        }
        else if (canonicalPolicy == "custom")
        {
            throw Bad(ErrorCodes.InvalidAllocationPolicy, "allocationPolicy custom needs customAllocationDefinition {webhookUrl, apiVersion}: the webhook that picks the hub.");
        }
    }
}
