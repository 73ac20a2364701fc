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
/// The attestation of an enrollment PUT: x509 (CA references or certificates), symmetric keys (kept or generated) or
/// TPM (individual enrollments only); certificates and keys sent back masked keep the stored ones.
/// </summary>
internal sealed class AttestationValidator(EnrollmentKind kind, ProvisioningServiceEntity dps, EnrollmentEntity? existing, EmulatorStore store)
{
    private JsonObject? ExistingAttestation => existing?.Body["attestation"] as JsonObject;

    public JsonObject Validate(JsonObject body)
    {
        if (body["attestation"] is not JsonObject attestation)
        {
            throw Bad(ErrorCodes.InvalidAttestation, body["attestation"] is null
                ? $"The {kind.Noun} has no attestation. Give attestation.type ({(kind.IsGroup ? "x509 or symmetricKey" : "x509, symmetricKey or tpm")}) and its settings."
                : "attestation must be a JSON object.");
        }

        var type = GetString(attestation, "type", "attestation");
        switch (type?.ToLowerInvariant())
        {
            case "x509":
                return new JsonObject { ["type"] = "x509", ["x509"] = X509(attestation["x509"]) };
            case "symmetrickey":
                return new JsonObject { ["type"] = "symmetricKey", ["symmetricKey"] = SymmetricKey(attestation["symmetricKey"]) };
            case "tpm":
                if (kind.IsGroup)
                {
                    throw Bad(ErrorCodes.InvalidAttestation, "TPM attestation is for individual enrollments only; an enrollment group uses x509 or symmetricKey.");
                }

                return new JsonObject { ["type"] = "tpm", ["tpm"] = Tpm(attestation["tpm"]) };
            case null:
                throw Bad(ErrorCodes.InvalidAttestation, $"attestation.type is missing: use {(kind.IsGroup ? "'x509' or 'symmetricKey'" : "'x509', 'symmetricKey' or 'tpm'")}.");
            default:
                throw Bad(ErrorCodes.InvalidAttestation,
                    $"attestation.type '{Shorten(type)}' is not supported: use {(kind.IsGroup ? "'x509' or 'symmetricKey'" : "'x509', 'symmetricKey' or 'tpm'")}.");
        }
    }

    private JsonObject X509(JsonNode? node)
    {
        var certificatesField = kind.IsGroup ? "signingCertificates" : "clientCertificates";
        var otherField = kind.IsGroup ? "clientCertificates" : "signingCertificates";
        var help = $"give x509.caReferences.primary (the name of a certificate uploaded to the DPS) or x509.{certificatesField}.primary.certificate (PEM or base64)";
        if (node is not JsonObject x509)
        {
            throw Bad(ErrorCodes.InvalidAttestation, node is null ? $"attestation.type is x509 but attestation.x509 is missing: {help}." : "attestation.x509 must be a JSON object.");
        }

        if (x509[otherField] is not null)
        {
            throw Bad(ErrorCodes.InvalidAttestation, kind.IsGroup
                ? "x509.clientCertificates are for individual enrollments; an enrollment group uses x509.signingCertificates (a CA certificate) or x509.caReferences."
                : "x509.signingCertificates are for enrollment groups; an individual enrollment uses x509.clientCertificates (the device certificate) or x509.caReferences.");
        }

        var references = x509["caReferences"];
        var certificates = x509[certificatesField];
        if (references is null && certificates is null)
        {
            throw Bad(ErrorCodes.InvalidAttestation, $"attestation.x509 has no certificate: {help}.");
        }

        if (references is not null && certificates is not null)
        {
            throw Bad(ErrorCodes.InvalidAttestation, $"attestation.x509 has both caReferences and {certificatesField}; give one of them.");
        }

        if (references is not null)
        {
            if (references is not JsonObject refs) throw Bad(ErrorCodes.InvalidRequestBody, "x509.caReferences must be a JSON object with primary (and optionally secondary).");
            var result = new JsonObject();
            foreach (var slot in new[] { "primary", "secondary" })
            {
                var name = GetString(refs, slot, "x509.caReferences");
                if (name is null)
                {
                    if (slot == "primary") throw Bad(ErrorCodes.InvalidAttestation, "x509.caReferences.primary is missing: give the name of a certificate uploaded to the DPS.");
                    continue;
                }

                var certificate = store.DpsCertificates.Get(ArmKeys.DpsCertificate(dps.Name, name));
                if (certificate is null)
                {
                    var known = store.DpsCertificates.All.Where(c => c.Dps.Equals(dps.Name, StringComparison.OrdinalIgnoreCase))
                        .Select(c => "'" + c.Name + "'").Order(StringComparer.OrdinalIgnoreCase).ToList();
                    throw Bad(ErrorCodes.CaCertificateNotFound,
                        $"x509.caReferences.{slot} names the certificate '{Shorten(name)}', which the DPS '{dps.Name}' does not have. "
                        + (known.Count == 0 ? "The DPS has no certificates yet: upload the CA certificate first." : $"Its certificates are: {string.Join(", ", known)}."),
                        new JsonObject { ["certificateName"] = name });
                }

                result[slot] = certificate.Name;
            }

            return new JsonObject { ["caReferences"] = result };
        }

        if (certificates is not JsonObject slots) throw Bad(ErrorCodes.InvalidRequestBody, $"x509.{certificatesField} must be a JSON object with primary (and optionally secondary).");
        var existingSlots = (ExistingAttestation?["x509"] as JsonObject)?[certificatesField] as JsonObject;
        var normalized = new JsonObject();
        foreach (var slot in new[] { "primary", "secondary" })
        {
            var value = slots[slot];
            if (value is null)
            {
                if (slot == "primary") throw Bad(ErrorCodes.InvalidAttestation, $"x509.{certificatesField}.primary is missing: give primary.certificate (PEM or base64).");
                continue;
            }

            if (value is not JsonObject withInfo) throw Bad(ErrorCodes.InvalidRequestBody, $"x509.{certificatesField}.{slot} must be a JSON object with a certificate.");
            normalized[slot] = Certificate(withInfo, $"x509.{certificatesField}.{slot}", existingSlots?[slot] as JsonObject);
        }

        return new JsonObject { [certificatesField] = normalized };
    }

    private static JsonObject Certificate(JsonObject withInfo, string where, JsonObject? existingSlot)
    {
        var text = GetString(withInfo, "certificate", where);
        if (string.IsNullOrWhiteSpace(text))
        {
            // A client that read the enrollment back got only the info; keep the stored certificate if it is the same one.
            if (existingSlot?["certificate"] is JsonNode stored && withInfo["info"] is JsonObject info)
            {
                var sent = info["sha256Thumbprint"]?.ToString() ?? info["sha1Thumbprint"]?.ToString();
                var kept = existingSlot["info"] as JsonObject;
                if (sent is null || sent.Equals(kept?["sha256Thumbprint"]?.ToString(), StringComparison.OrdinalIgnoreCase)
                    || sent.Equals(kept?["sha1Thumbprint"]?.ToString(), StringComparison.OrdinalIgnoreCase))
                {
                    return new JsonObject { ["certificate"] = stored.DeepClone(), ["info"] = kept?.DeepClone() };
                }
            }

            throw Bad(ErrorCodes.InvalidCertificate, $"{where}.certificate is missing: give the certificate as PEM (-----BEGIN CERTIFICATE-----) or base64 DER.");
        }

        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(Encoding.UTF8.GetBytes(text.Trim()));
        }
        catch (Exception ex) when (ex is PkiException or CryptographicException or FormatException)
        {
            throw Bad(ErrorCodes.InvalidCertificate, $"{where}.certificate cannot be read as an X.509 certificate: {ex.Message} Give it as PEM (-----BEGIN CERTIFICATE-----) or base64 DER.");
        }

        using (read)
        {
            if (read.Key is not null)
            {
                throw Bad(ErrorCodes.InvalidCertificate, $"{where}.certificate carries a private key. Send only the certificate; the private key must stay with the device or CA.");
            }

            var certificate = read.Certificates[0];
            return new JsonObject { ["certificate"] = Convert.ToBase64String(certificate.RawData), ["info"] = CertificateInfo(certificate) };
        }
    }

    private JsonObject SymmetricKey(JsonNode? node)
    {
        if (node is not null and not JsonObject) throw Bad(ErrorCodes.InvalidRequestBody, "attestation.symmetricKey must be a JSON object with primaryKey and secondaryKey.");
        var given = node as JsonObject;
        var kept = ExistingAttestation?["symmetricKey"] as JsonObject;
        var result = new JsonObject();
        foreach (var name in new[] { "primaryKey", "secondaryKey" })
        {
            var key = given is null ? null : GetString(given, name, "attestation.symmetricKey");
            if (string.IsNullOrEmpty(key))
            {
                key = kept?[name]?.GetValue<string>() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(GeneratedSymmetricKeyBytes));
            }
            else
            {
                var buffer = new byte[key.Length];
                if (!Convert.TryFromBase64String(key, buffer, out var length) || length < MinSymmetricKeyBytes || length > MaxSymmetricKeyBytes)
                {
                    throw Bad(ErrorCodes.InvalidSymmetricKey, length is > 0 and (< MinSymmetricKeyBytes or > MaxSymmetricKeyBytes)
                        ? $"attestation.symmetricKey.{name} is {length} bytes long; a key must be base64 of {MinSymmetricKeyBytes} to {MaxSymmetricKeyBytes} bytes. Leave it out to let the service generate one."
                        : $"attestation.symmetricKey.{name} is not valid base64; a key must be base64 of {MinSymmetricKeyBytes} to {MaxSymmetricKeyBytes} bytes. Leave it out to let the service generate one.");
                }
            }

            result[name] = key;
        }

        return result;
    }

    private static JsonObject Tpm(JsonNode? node)
    {
        if (node is not JsonObject tpm)
        {
            throw Bad(ErrorCodes.InvalidAttestation, "attestation.type is tpm but attestation.tpm is missing: give tpm.endorsementKey (base64).");
        }

        var result = new JsonObject();
        foreach (var name in new[] { "endorsementKey", "storageRootKey" })
        {
            var value = GetString(tpm, name, "attestation.tpm");
            if (value is null)
            {
                if (name == "endorsementKey") throw Bad(ErrorCodes.InvalidAttestation, "attestation.tpm.endorsementKey is missing: give the TPM's endorsement key (base64).");
                continue;
            }

            if (value.Length == 0 || !Convert.TryFromBase64String(value, new byte[value.Length], out _))
            {
                throw Bad(ErrorCodes.InvalidAttestation, $"attestation.tpm.{name} is not valid base64.");
            }

            result[name] = value;
        }

        return result;
    }
}
