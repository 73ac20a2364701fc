using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// Reads what registration needs from an enrollment's service-API JSON (docs/azure-wire.md §5.1). Property names are
/// matched case-insensitively and missing values take the service defaults.
/// </summary>
internal sealed class EnrollmentView(EnrollmentEntity entity)
{
    public EnrollmentEntity Entity { get; } = entity;

    public string Id => Entity.Id;

    public bool IsGroup => Entity.IsGroup;

    public string Kind => IsGroup ? $"enrollment group '{Id}'" : $"individual enrollment '{Id}'";

    public string AttestationType => Json.String(Entity.Body, "attestation", "type")?.ToLowerInvariant() ?? "none";

    public bool IsDisabled => string.Equals(Json.String(Entity.Body, "provisioningStatus"), "disabled", StringComparison.OrdinalIgnoreCase);

    public bool UpdateHubAssignment => Json.Bool(Entity.Body, "reprovisionPolicy", "updateHubAssignment") ?? true;

    public bool MigrateDeviceData => Json.Bool(Entity.Body, "reprovisionPolicy", "migrateDeviceData") ?? true;

    public string? AllocationPolicy => Json.String(Entity.Body, "allocationPolicy");

    public bool IotEdge => Json.Bool(Entity.Body, "capabilities", "iotEdge") ?? false;

    /// <summary>The individual enrollment's deviceId, when one was set.</summary>
    public string? DeviceId => IsGroup ? null : Json.String(Entity.Body, "deviceId") is { Length: > 0 } id ? id : null;

    /// <summary>Host names from iotHubs, or the legacy iotHubHostName.</summary>
    public IReadOnlyList<string> IotHubs
    {
        get
        {
            var hubs = new List<string>();
            if (Json.Get(Entity.Body, "iotHubs") is JsonArray array)
            {
                foreach (var item in array)
                {
                    if (item is JsonValue value && value.TryGetValue<string>(out var host) && host.Length > 0) hubs.Add(host);
                }
            }

            if (hubs.Count == 0 && Json.String(Entity.Body, "iotHubHostName") is { Length: > 0 } legacy)
            {
                hubs.Add(legacy);
            }

            return hubs;
        }
    }

    public JsonObject InitialTags => Json.UserProperties(Json.Get(Entity.Body, "initialTwin", "tags"));

    public JsonObject InitialDesired => Json.UserProperties(Json.Get(Entity.Body, "initialTwin", "properties", "desired"));

    public (string? Primary, string? Secondary) SymmetricKeys =>
        (Json.String(Entity.Body, "attestation", "symmetricKey", "primaryKey"), Json.String(Entity.Body, "attestation", "symmetricKey", "secondaryKey"));

    /// <summary>caReferences.primary/secondary: names of DPS certificates.</summary>
    public IEnumerable<string> CaReferences
    {
        get
        {
            foreach (var slot in new[] { "primary", "secondary" })
            {
                if (Json.String(Entity.Body, "attestation", "x509", "caReferences", slot) is { Length: > 0 } name) yield return name;
            }
        }
    }

    public bool HasClientCertificates => Json.Get(Entity.Body, "attestation", "x509", "clientCertificates") is JsonObject;

    /// <summary>True when the leaf is the enrollment's primary or secondary client certificate (by DER or thumbprint).</summary>
    public bool MatchesClientCertificate(X509Certificate2 leaf)
    {
        var sha1 = leaf.Thumbprint;
        var sha256 = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(leaf.RawData));
        foreach (var slot in new[] { "primary", "secondary" })
        {
            var entry = Json.Get(Entity.Body, "attestation", "x509", "clientCertificates", slot);
            if (entry is null) continue;
            if (Json.String(entry, "certificate") is { Length: > 0 } text && DecodeCertificate(text) is { } certificate)
            {
                using (certificate)
                {
                    if (certificate.RawData.AsSpan().SequenceEqual(leaf.RawData)) return true;
                }
            }

            if (SameThumbprint(Json.String(entry, "info", "sha1Thumbprint"), sha1) || SameThumbprint(Json.String(entry, "info", "sha256Thumbprint"), sha256))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The thumbprints the enrollment names, for "which certificate did you expect" diagnostics.</summary>
    public JsonArray ExpectedClientThumbprints()
    {
        var result = new JsonArray();
        foreach (var slot in new[] { "primary", "secondary" })
        {
            var entry = Json.Get(Entity.Body, "attestation", "x509", "clientCertificates", slot);
            if (entry is null) continue;
            if (Json.String(entry, "certificate") is { Length: > 0 } text && DecodeCertificate(text) is { } certificate)
            {
                using (certificate) result.Add($"{slot}: {certificate.Subject} (sha1 {certificate.Thumbprint})");
            }
            else if ((Json.String(entry, "info", "sha1Thumbprint") ?? Json.String(entry, "info", "sha256Thumbprint")) is { } thumbprint)
            {
                result.Add($"{slot}: thumbprint {thumbprint}");
            }
        }

        return result;
    }

    /// <summary>True when caReferences or signingCertificates name exactly this CA certificate.</summary>
    public bool ReferencesCertificate(X509Certificate2 ca, IReadOnlyList<DpsCertificateEntity> dpsCertificates)
    {
        foreach (var name in CaReferences)
        {
            var referenced = dpsCertificates.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
            if (referenced is not null && referenced.Der.AsSpan().SequenceEqual(ca.RawData)) return true;
        }

        foreach (var slot in new[] { "primary", "secondary" })
        {
            if (Json.String(Entity.Body, "attestation", "x509", "signingCertificates", slot, "certificate") is { Length: > 0 } text
                && DecodeCertificate(text) is { } signing)
            {
                using (signing)
                {
                    if (signing.RawData.AsSpan().SequenceEqual(ca.RawData)) return true;
                }
            }
        }

        return false;
    }

    /// <summary>PEM, base64 DER or anything else CheeseCave.Pki reads; null when it is not a certificate.</summary>
    public static X509Certificate2? DecodeCertificate(string text)
    {
        try
        {
            using var read = CertificateReader.Read(Encoding.UTF8.GetBytes(text.Trim()));
            return read.Certificates.Count == 0 ? null : X509CertificateLoader.LoadCertificate(read.Certificates[0].RawData);
        }
        catch (Exception ex) when (ex is PkiException or System.Security.Cryptography.CryptographicException or FormatException)
        {
            return null;
        }
    }

    private static bool SameThumbprint(string? configured, string actual) =>
        configured is { Length: > 0 } && string.Equals(configured.Replace(":", string.Empty, StringComparison.Ordinal).Trim(), actual, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Case-insensitive reads of the stored enrollment JSON.</summary>
internal static class Json
{
    public static JsonNode? Get(JsonNode? node, params string[] path)
    {
        var current = node;
        foreach (var name in path)
        {
            if (current is not JsonObject obj) return null;
            if (!obj.TryGetPropertyValue(name, out var next))
            {
                next = obj.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
            }

            current = next;
        }

        return current;
    }

    public static string? String(JsonNode? node, params string[] path) =>
        Get(node, path) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static bool? Bool(JsonNode? node, params string[] path) =>
        Get(node, path) is JsonValue value ? value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetValue<string>(), out var parsed) => parsed,
            _ => null,
        } : null;

    /// <summary>A twin collection without its service-maintained "$" keys ($metadata, $version).</summary>
    public static JsonObject UserProperties(JsonNode? node)
    {
        var result = new JsonObject();
        if (node is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                if (!key.StartsWith('$')) result[key] = value?.DeepClone();
            }
        }

        return result;
    }
}
