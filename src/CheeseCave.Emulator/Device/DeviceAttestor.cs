using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// Who the device is and which enrollment applies: an X.509 chain to a verified CA (an individual enrollment decides
/// before groups, groups on the closest CA before groups on the root) or a symmetric-key SAS (individual key, or a
/// group key derived for the registration ID). Disabled enrollments attest, so the engine can record the refusal.
/// </summary>
internal sealed partial class DeviceAttestor(EmulatorContext context, ILogger logger)
{
    public (Attested? Attested, DeviceApiError? Error) Attest(ProvisioningServiceEntity dps, DeviceRequest request, string registrationId)
    {
        if (!string.IsNullOrWhiteSpace(request.Authorization))
        {
            return AttestSymmetricKey(dps, request, registrationId);
        }

        if (request.Certificates is { } peer)
        {
            return AttestX509(dps, peer, registrationId);
        }

        return (null, DeviceErrors.NoCredentials());
    }

    private (Attested?, DeviceApiError?) AttestX509(ProvisioningServiceEntity dps, PeerCertificates peer, string registrationId)
    {
        var now = context.Time.GetUtcNow();
        var presented = DeviceChainValidator.Presented(peer);
        if (logger.IsEnabled(LogLevel.Information))
        {
            var subjects = string.Join(" | ", presented.Select(c => c.Subject));
            LogPresented(registrationId, subjects);
        }

        if (DeviceChainValidator.CheckLeaf(peer.Leaf, registrationId, now, presented) is { } leafError)
        {
            return (null, leafError);
        }

        var certificates = context.Store.DpsCertificates.All.Where(c => string.Equals(c.Dps, dps.Name, StringComparison.OrdinalIgnoreCase)).ToList();
        var individualEntity = context.Store.Enrollments.Get(ArmKeys.Enrollment(dps.Name, false, registrationId));
        if (individualEntity is not null)
        {
            var individual = new EnrollmentView(individualEntity);
            if (individual.IsDisabled)
            {
                return (new Attested(individual, peer.Leaf, null, null, null), null); // disabled: refused whatever the attestation
            }

            if (individual.AttestationType != "x509")
            {
                return (null, DeviceChainValidator.Refuse("attestationMismatch",
                    $"The individual enrollment '{individual.Id}' uses {individual.AttestationType} attestation, but the device authenticated with an X.509 certificate.", presented,
                    "Change the individual enrollment to X.509 attestation with this certificate, or delete it so the enrollment groups apply."));
            }

            if (individual.HasClientCertificates)
            {
                return individual.MatchesClientCertificate(peer.Leaf)
                    ? (new Attested(individual, peer.Leaf, null, null, null), null)
                    : (null, DeviceChainValidator.Refuse("certificateMismatch",
                        $"The device certificate (sha1 {peer.Leaf.Thumbprint}) is neither the primary nor the secondary certificate of individual enrollment '{individual.Id}'.", presented,
                        "Individual enrollments take precedence over groups: update the enrollment's clientCertificates, or delete it so the device's enrollment group applies.",
                        new JsonObject { ["expected"] = individual.ExpectedClientThumbprints(), ["leafSha1Thumbprint"] = peer.Leaf.Thumbprint }));
            }
        }

        var (chain, chainError) = DeviceChainValidator.Validate(peer.Leaf, presented, certificates, dps.Name, now);
        if (chainError is not null)
        {
            return (null, chainError);
        }

        if (individualEntity is not null)
        {
            var individual = new EnrollmentView(individualEntity);
            var signer = chain!.Issuers.FirstOrDefault(c => individual.ReferencesCertificate(c, certificates));
            return signer is not null
                ? (new Attested(individual, peer.Leaf, signer, null, null), null)
                : (null, DeviceChainValidator.Refuse("certificateMismatch",
                    $"The individual enrollment '{individual.Id}' names no certificate of the device's chain.", presented,
                    "Individual enrollments take precedence over groups: point the enrollment at a CA of the chain, or delete it so the device's enrollment group applies.",
                    new JsonObject { ["chain"] = RegistrationJson.Subjects(chain.Issuers) }));
        }

        var groups = context.Store.Enrollments.All
            .Where(e => e.IsGroup && string.Equals(e.Dps, dps.Name, StringComparison.OrdinalIgnoreCase))
            .Select(e => new EnrollmentView(e))
            .Where(g => g.AttestationType == "x509")
            .OrderBy(g => g.Entity.Created).ThenBy(g => g.Id, StringComparer.OrdinalIgnoreCase)
            .ToList();

        // Closest CA first: the group of the first intermediate wins over the group of the root.
        foreach (var ca in chain!.Issuers)
        {
            var group = groups.FirstOrDefault(g => g.ReferencesCertificate(ca, certificates));
            if (group is not null)
            {
                return (new Attested(group, peer.Leaf, ca, null, null), null);
            }
        }

        return (null, DeviceChainValidator.Refuse("noEnrollment",
            $"The device's chain is valid (it reaches verified DPS certificate '{chain.Anchor.Name}'), but no enrollment matches registration '{registrationId}' or any CA of its chain.", presented,
            $"Create an enrollment group whose caReferences.primary is '{chain.Anchor.Name}' (or a DPS certificate of another CA in the chain), or an individual enrollment '{registrationId}'.",
            new JsonObject
            {
                ["chain"] = RegistrationJson.Subjects(chain.Issuers),
                ["verifiedCertificate"] = chain.Anchor.Name,
                ["x509Groups"] = new JsonArray(groups.Select(g => (JsonNode)$"{g.Id}: caReferences [{string.Join(", ", g.CaReferences)}]").ToArray()),
            }));
    }

    private (Attested?, DeviceApiError?) AttestSymmetricKey(ProvisioningServiceEntity dps, DeviceRequest request, string registrationId)
    {
        var now = context.Time.GetUtcNow();
        if (!SharedAccessSignatures.TryParse(request.Authorization, out var token, out _, out _) || token is null)
        {
            return (null, DeviceErrors.MalformedSas());
        }

        if (SharedAccessSignatures.IsExpired(token, now))
        {
            return (null, DeviceErrors.SasExpired(token.ExpiresAt));
        }

        var expectedResource = $"{request.IdScope}/registrations/{request.RegistrationId}";
        if (!string.Equals(token.Resource, expectedResource, StringComparison.OrdinalIgnoreCase))
        {
            return (null, DeviceErrors.SasResourceMismatch(token.Resource, expectedResource));
        }

        if (token.KeyName is { } keyName && !string.Equals(keyName, "registration", StringComparison.OrdinalIgnoreCase))
        {
            return (null, DeviceErrors.SasKeyName(keyName));
        }

        var individualEntity = context.Store.Enrollments.Get(ArmKeys.Enrollment(dps.Name, false, registrationId));
        if (individualEntity is not null)
        {
            var individual = new EnrollmentView(individualEntity);
            if (individual.IsDisabled)
            {
                return (new Attested(individual, null, null, null, null), null);
            }

            if (individual.AttestationType != "symmetrickey")
            {
                return (null, DeviceErrors.SasForNonSymmetricEnrollment(individual.Id, individual.AttestationType));
            }

            var (primary, secondary) = individual.SymmetricKeys;
            return SharedAccessSignatures.VerifySignature(token, primary, secondary)
                ? (new Attested(individual, null, null, primary, secondary), null)
                : (null, DeviceErrors.SasSignatureInvalid(individual.Id));
        }

        var groups = context.Store.Enrollments.All
            .Where(e => e.IsGroup && string.Equals(e.Dps, dps.Name, StringComparison.OrdinalIgnoreCase))
            .Select(e => new EnrollmentView(e))
            .Where(g => g.AttestationType == "symmetrickey")
            .OrderBy(g => g.Entity.Created).ThenBy(g => g.Id, StringComparer.OrdinalIgnoreCase);
        foreach (var group in groups)
        {
            var (primary, secondary) = group.SymmetricKeys;
            foreach (var id in new[] { request.RegistrationId, registrationId }.Distinct(StringComparer.Ordinal))
            {
                var derivedPrimary = primary is null ? null : SharedAccessSignatures.DeriveDeviceKey(primary, id);
                var derivedSecondary = secondary is null ? null : SharedAccessSignatures.DeriveDeviceKey(secondary, id);
                if (SharedAccessSignatures.VerifySignature(token, derivedPrimary, derivedSecondary))
                {
                    return (new Attested(group, null, null, derivedPrimary, derivedSecondary), null);
                }
            }
        }

        return (null, DeviceErrors.NoSymmetricKeyEnrollment(dps.Name, registrationId));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registration {RegistrationId} presented: {Subjects}")]
    private partial void LogPresented(string registrationId, string subjects);
}
