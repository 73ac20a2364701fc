using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// One device request as any transport delivers it: the ID scope and registration ID (from the URL or the MQTT
/// user name), the TLS client chain, the Authorization value (SAS) and the JSON body.
/// </summary>
internal sealed record DeviceRequest(string IdScope, string RegistrationId, PeerCertificates? Certificates, string? Authorization, JsonNode? Body = null);

/// <summary>
/// DPS device registration, independent of HTTPS or MQTT: authenticates the device (X.509 chain to a verified CA,
/// or a symmetric-key SAS), finds its enrollment (individual first, then groups from the closest CA up to the root),
/// allocates an IoT hub, applies the reprovision policy, keeps the registration record and creates the device in
/// the hub's registry. Answers synchronously with the finished RegistrationOperationStatus.
/// </summary>
internal sealed partial class RegistrationEngine(EmulatorContext context, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public EmulatorContext Context { get; } = context;

    public async Task<DeviceApiResult> RegisterAsync(DeviceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (dps, registrationId, error) = Resolve(request);
        if (error is not null) return DeviceApiResult.Fail(error);

        if (CheckBody(request, registrationId!) is { } bodyError) return DeviceApiResult.Fail(bodyError);
        var (attested, refusal) = Attest(dps!, request, registrationId!);
        if (refusal is not null)
        {
            var reason = Reason(refusal);
            LogRefused(request.RegistrationId, dps!.Name, reason, refusal.Message);
            return DeviceApiResult.Fail(refusal);
        }

        var payload = Json.Get(request.Body, "payload") as JsonObject;
        attested!.Prepare();
        if (attested.Enrollment.IsDisabled)
        {
            var disabled = await Context.Store.WriteAsync(tx => CommitDisabled(tx, dps!, registrationId!, attested, payload)).ConfigureAwait(false);
            LogOutcome(registrationId!, dps!.Name, attested.Enrollment.Kind, "disabled", null, null);
            return DeviceApiResult.Ok(disabled);
        }

        var allocation = HubAllocator.Allocate(dps!, attested.Enrollment, registrationId!);
        if (allocation.NotEmulated)
        {
            return DeviceApiResult.Fail(400, DeviceErrorCodes.BadRequest, allocation.Failure!, new JsonObject { ["reason"] = "notEmulated", ["allocationPolicy"] = allocation.Policy });
        }

        var body = await Context.Store.WriteAsync(tx => CommitAssignment(tx, dps!, registrationId!, attested, allocation, payload)).ConfigureAwait(false);
        var state = body["registrationState"]!;
        string? status = Json.String(state, "status"), hub = Json.String(state, "assignedHub"), substatus = Json.String(state, "substatus");
        LogOutcome(registrationId!, dps!.Name, attested.Enrollment.Kind, status ?? "?", hub, substatus);
        return DeviceApiResult.Ok(body);
    }

    /// <summary>GET operations/{operationId}: the stored answer of an earlier register call of this device.</summary>
    public DeviceApiResult GetOperation(DeviceRequest request, string operationId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (dps, registrationId, error) = Resolve(request);
        if (error is not null) return DeviceApiResult.Fail(error);
        var (_, refusal) = Attest(dps!, request, registrationId!);
        if (refusal is not null) return DeviceApiResult.Fail(refusal);

        var operation = string.IsNullOrEmpty(operationId) ? null : Context.Store.Operations.Get(operationId);
        if (operation is null || !string.Equals(operation.Dps, dps!.Name, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(operation.RegistrationId, registrationId, StringComparison.OrdinalIgnoreCase))
        {
            return DeviceApiResult.Fail(404, DeviceErrorCodes.NotFound, $"Operation '{operationId}' was not found for registration '{registrationId}'.",
                new JsonObject { ["reason"] = "operationNotFound", ["hint"] = "Poll with the operationId returned by the register call of this registration ID." });
        }

        return new DeviceApiResult(operation.HttpStatus, operation.Response.DeepClone().AsObject(), null);
    }

    /// <summary>POST /{idScope}/registrations/{id}: the device's current registration result.</summary>
    public DeviceApiResult GetRegistrationState(DeviceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (dps, registrationId, error) = Resolve(request);
        if (error is not null) return DeviceApiResult.Fail(error);
        var (attested, refusal) = Attest(dps!, request, registrationId!);
        if (refusal is not null) return DeviceApiResult.Fail(refusal);

        var record = Context.Store.Registrations.Get(ArmKeys.Registration(dps!.Name, registrationId!));
        if (record is null)
        {
            return DeviceApiResult.Fail(404, DeviceErrorCodes.NotFound, $"Registration '{registrationId}' has not registered with DPS '{dps.Name}' yet.",
                new JsonObject { ["reason"] = "registrationNotFound", ["hint"] = "Call register first." });
        }

        return DeviceApiResult.Ok(RegistrationState(record, attested!));
    }

    /// <summary>The DPS of the ID scope and the registration ID in the lower case DPS keeps.</summary>
    private (ProvisioningServiceEntity? Dps, string? RegistrationId, DeviceApiError? Error) Resolve(DeviceRequest request)
    {
        var dps = Context.Store.ProvisioningServices.All.FirstOrDefault(d => string.Equals(d.IdScope, request.IdScope, StringComparison.OrdinalIgnoreCase));
        if (dps is null)
        {
            return (null, null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized,
                $"ID scope '{request.IdScope}' does not belong to any DPS of this emulator.",
                new JsonObject { ["reason"] = "unknownIdScope", ["hint"] = "Use the idScope property of the DPS resource (it starts with 0ne)." }));
        }

        if (CheckRegistrationId(request.RegistrationId) is { } problem)
        {
            return (dps, null, new DeviceApiError(400, DeviceErrorCodes.BadRequest, $"Invalid RegistrationId: {problem}",
                new JsonObject { ["reason"] = "invalidRegistrationId", ["registrationId"] = request.RegistrationId }));
        }

        if (request.RegistrationId.Any(char.IsAsciiLetterUpper))
        {
            LogUpperCase(request.RegistrationId);
        }

        return (dps, request.RegistrationId.ToLowerInvariant(), null);
    }

    internal static string? CheckRegistrationId(string? registrationId)
    {
        if (string.IsNullOrEmpty(registrationId)) return "the registration ID is empty.";
        if (registrationId.Length > 128) return $"'{registrationId[..32]}...' is longer than 128 characters.";
        if (registrationId.FirstOrDefault(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':')) is var bad && bad != default)
        {
            return $"'{registrationId}' contains '{bad}'; only letters, digits and - . _ : are allowed.";
        }

        return char.IsAsciiLetterOrDigit(registrationId[^1]) || registrationId[^1] == '-'
            ? null
            : $"'{registrationId}' must end with a letter, a digit or '-'.";
    }

    private static DeviceApiError? CheckBody(DeviceRequest request, string registrationId)
    {
        if (Json.String(request.Body, "registrationId") is { } inBody && !string.Equals(inBody, registrationId, StringComparison.OrdinalIgnoreCase))
        {
            return new DeviceApiError(400, DeviceErrorCodes.BadRequest,
                $"The body's registrationId '{inBody}' differs from the registration ID '{request.RegistrationId}' of the request path.",
                new JsonObject { ["reason"] = "registrationIdMismatch" });
        }

        if (Json.Get(request.Body, "tpm") is JsonObject)
        {
            return new DeviceApiError(400, DeviceErrorCodes.BadRequest, "TPM attestation is not emulated: use X.509 or symmetric-key attestation.",
                new JsonObject { ["reason"] = "notEmulated" });
        }

        return null;
    }

    /// <summary>What proved the device's identity and which enrollment applies.</summary>
    private sealed record Attested(EnrollmentView Enrollment, X509Certificate2? Leaf, X509Certificate2? SigningCertificate, string? PrimaryKey, string? SecondaryKey)
    {
        private JsonObject? _leafInfo;
        private JsonObject? _signingInfo;
        private (string? Sha1, string? Sha256)? _thumbprints;

        /// <summary>
        /// Computes what the answer needs from the certificates (subjects, thumbprints, SHA-256) now, so it is not
        /// done inside the store's write lock, which every registration of the emulator takes in turn.
        /// </summary>
        public void Prepare()
        {
            _ = Thumbprints;
            if (Leaf is not null) _leafInfo ??= CertificateInfo(Leaf);
            if (SigningCertificate is not null) _signingInfo ??= CertificateInfo(SigningCertificate);
        }

        public (string? Sha1, string? Sha256) Thumbprints => _thumbprints ??= RegistrationEngine.Thumbprints(Leaf);

        /// <summary>certificateInfo of the leaf (a node can have one parent: a second caller gets a copy).</summary>
        public JsonObject LeafInfo => Detached(_leafInfo ??= CertificateInfo(Leaf!));

        public JsonObject SigningInfo => Detached(_signingInfo ??= CertificateInfo(SigningCertificate!));

        private static JsonObject Detached(JsonObject node) => node.Parent is null ? node : node.DeepClone().AsObject();
    }

    private (Attested? Attested, DeviceApiError? Error) Attest(ProvisioningServiceEntity dps, DeviceRequest request, string registrationId)
    {
        if (!string.IsNullOrWhiteSpace(request.Authorization))
        {
            return AttestSymmetricKey(dps, request, registrationId);
        }

        if (request.Certificates is { } peer)
        {
            return AttestX509(dps, peer, registrationId);
        }

        return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized,
            "The device presented neither a TLS client certificate nor a SAS token.",
            new JsonObject
            {
                ["reason"] = "noCredentials",
                ["presented"] = new JsonArray(),
                ["hint"] = "X.509 devices must present their certificate (leaf + intermediates) in the TLS handshake; symmetric-key devices send 'Authorization: SharedAccessSignature sr={idScope}/registrations/{registrationId}&sig=..&skn=registration&se=..'.",
            }));
    }

    private (Attested?, DeviceApiError?) AttestX509(ProvisioningServiceEntity dps, PeerCertificates peer, string registrationId)
    {
        var now = Context.Time.GetUtcNow();
        var presented = DeviceChainValidator.Presented(peer);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var subjects = string.Join(" | ", presented.Select(c => c.Subject));
            LogPresented(registrationId, subjects);
        }

        if (DeviceChainValidator.CheckLeaf(peer.Leaf, registrationId, now, presented) is { } leafError)
        {
            return (null, leafError);
        }

        var certificates = Context.Store.DpsCertificates.All.Where(c => string.Equals(c.Dps, dps.Name, StringComparison.OrdinalIgnoreCase)).ToList();
        var individualEntity = Context.Store.Enrollments.Get(ArmKeys.Enrollment(dps.Name, false, registrationId));
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
                    new JsonObject { ["chain"] = Subjects(chain.Issuers) }));
        }

        var groups = Context.Store.Enrollments.All
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
                ["chain"] = Subjects(chain.Issuers),
                ["verifiedCertificate"] = chain.Anchor.Name,
                ["x509Groups"] = new JsonArray(groups.Select(g => (JsonNode)$"{g.Id}: caReferences [{string.Join(", ", g.CaReferences)}]").ToArray()),
            }));
    }

    private (Attested?, DeviceApiError?) AttestSymmetricKey(ProvisioningServiceEntity dps, DeviceRequest request, string registrationId)
    {
        var now = Context.Time.GetUtcNow();
        JsonObject Info(string reason, string hint) => new() { ["reason"] = reason, ["hint"] = hint };
        if (!SharedAccessSignatures.TryParse(request.Authorization, out var token, out _, out _) || token is null)
        {
            return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized, "The Authorization header is not a SharedAccessSignature token.",
                Info("malformedSas", "Send 'SharedAccessSignature sr={idScope}/registrations/{registrationId}&sig={signature}&skn=registration&se={expiry}'.")));
        }

        if (SharedAccessSignatures.IsExpired(token, now))
        {
            return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized, $"The SAS token expired at {token.ExpiresAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.",
                Info("sasExpired", "Create a new token with a future expiry (se, in seconds since 1970).")));
        }

        var expectedResource = $"{request.IdScope}/registrations/{request.RegistrationId}";
        if (!string.Equals(token.Resource, expectedResource, StringComparison.OrdinalIgnoreCase))
        {
            return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized, $"The SAS token is for '{token.Resource}', not for '{expectedResource}'.",
                Info("sasResourceMismatch", "Sign sr={idScope}/registrations/{registrationId} for the registration being made.")));
        }

        if (token.KeyName is { } keyName && !string.Equals(keyName, "registration", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized, $"Device SAS tokens use skn=registration, not '{keyName}'.",
                Info("sasKeyName", "Set skn=registration.")));
        }

        var individualEntity = Context.Store.Enrollments.Get(ArmKeys.Enrollment(dps.Name, false, registrationId));
        if (individualEntity is not null)
        {
            var individual = new EnrollmentView(individualEntity);
            if (individual.IsDisabled)
            {
                return (new Attested(individual, null, null, null, null), null);
            }

            if (individual.AttestationType != "symmetrickey")
            {
                return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized,
                    $"The individual enrollment '{individual.Id}' uses {individual.AttestationType} attestation, but the device sent a SAS token.",
                    Info("attestationMismatch", "Authenticate the way the enrollment says, or change the enrollment.")));
            }

            var (primary, secondary) = individual.SymmetricKeys;
            return SharedAccessSignatures.VerifySignature(token, primary, secondary)
                ? (new Attested(individual, null, null, primary, secondary), null)
                : (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized,
                    $"The SAS signature does not verify with the keys of individual enrollment '{individual.Id}'.",
                    Info("sasSignatureInvalid", "Sign with the enrollment's primary or secondary key (individual enrollments use the key as is, not a derived key).")));
        }

        var groups = Context.Store.Enrollments.All
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

        return (null, new DeviceApiError(401, DeviceErrorCodes.Unauthorized,
            $"No enrollment of DPS '{dps.Name}' verifies this SAS token for registration '{registrationId}'.",
            Info("noEnrollment", "For a symmetric-key group, derive the device key as base64(HMAC-SHA256(base64decode(groupKey), registrationId)) and sign with it; for an individual enrollment, sign with its key.")));
    }

    private JsonObject CommitDisabled(StoreTransaction tx, ProvisioningServiceEntity dps, string registrationId, Attested attested, JsonObject? payload)
    {
        var now = Context.Time.GetUtcNow();
        var key = ArmKeys.Registration(dps.Name, registrationId);
        var prior = Context.Store.Registrations.Get(key);
        var (sha1, sha256) = attested.Thumbprints;
        var record = new RegistrationEntity(dps.Name, registrationId, attested.Enrollment.IsGroup ? attested.Enrollment.Id : null,
            prior?.AssignedHub, prior?.DeviceId, "disabled", null, DeviceErrorCodes.Unauthorized,
            $"The {attested.Enrollment.Kind} is disabled (provisioningStatus 'disabled'), so the device is not provisioned.",
            EmulatorContext.NewEtag(), prior?.Created ?? now, now, sha1, sha256, payload?.DeepClone().AsObject() ?? prior?.Payload);
        tx.Put(Context.Store.Registrations, key, record);
        return StoreOperation(tx, dps, record, attested, now);
    }

    private JsonObject CommitAssignment(StoreTransaction tx, ProvisioningServiceEntity dps, string registrationId, Attested attested, Allocation allocation, JsonObject? payload)
    {
        var now = Context.Time.GetUtcNow();
        var store = Context.Store;
        var enrollment = attested.Enrollment;
        var key = ArmKeys.Registration(dps.Name, registrationId);
        var prior = store.Registrations.Get(key);
        var priorHub = prior?.AssignedHub;
        var (sha1, sha256) = attested.Thumbprints;
        var groupId = enrollment.IsGroup ? enrollment.Id : null;
        var deviceId = enrollment.DeviceId ?? registrationId;
        string hubHost;
        string substatus;
        bool keepData;
        if (priorHub is not null && !enrollment.UpdateHubAssignment)
        {
            // "Never re-provision": the device stays where it is, with its data.
            hubHost = priorHub;
            deviceId = prior!.DeviceId ?? deviceId;
            substatus = prior.Substatus ?? "initialAssignment";
            keepData = true;
        }
        else if (allocation.Hub is null)
        {
            var failed = new RegistrationEntity(dps.Name, registrationId, groupId, priorHub, prior?.DeviceId, "failed", null, DeviceErrorCodes.BadRequest,
                allocation.Failure, EmulatorContext.NewEtag(), prior?.Created ?? now, now, sha1, sha256, payload?.DeepClone().AsObject() ?? prior?.Payload);
            tx.Put(store.Registrations, key, failed);
            return StoreOperation(tx, dps, failed, attested, now);
        }
        else
        {
            hubHost = allocation.Hub.HostName;
            if (priorHub is null)
            {
                substatus = "initialAssignment";
                keepData = false;
            }
            else if (string.Equals(priorHub, hubHost, StringComparison.OrdinalIgnoreCase))
            {
                substatus = enrollment.MigrateDeviceData ? "reprovisionedToInitialAssignment" : "deviceDataReset";
                keepData = enrollment.MigrateDeviceData;
            }
            else
            {
                substatus = enrollment.MigrateDeviceData ? "deviceDataMigrated" : "deviceDataReset";
                keepData = enrollment.MigrateDeviceData;
            }
        }

        var hubName = HubName(hubHost);
        var newKey = ArmKeys.HubDevice(hubName, deviceId);
        HubDeviceEntity? previous = null;
        string? previousKey = null;
        if (priorHub is not null && prior!.DeviceId is { } priorDeviceId)
        {
            previousKey = ArmKeys.HubDevice(HubName(priorHub), priorDeviceId);
            previous = store.HubDevices.Get(previousKey);
        }

        var existing = store.HubDevices.Get(newKey);
        var source = keepData ? existing ?? previous : null;
        var tags = source?.Tags.DeepClone().AsObject() ?? enrollment.InitialTags;
        var desired = source?.Desired.DeepClone().AsObject() ?? enrollment.InitialDesired;
        var isX509 = attested.Leaf is not null;
        var device = new HubDeviceEntity(
            hubName, deviceId, isX509 ? "selfSigned" : "sas",
            isX509 ? sha256 : null, isX509 ? sha256 : null,
            enrollment.IotEdge, existing?.Status ?? "enabled", tags, desired, EmulatorContext.NewEtag(),
            existing?.Created ?? now, now,
            isX509 ? null : attested.PrimaryKey, isX509 ? null : attested.SecondaryKey ?? attested.PrimaryKey);
        if (previousKey is not null && previous is not null && !string.Equals(previousKey, newKey, StringComparison.OrdinalIgnoreCase))
        {
            tx.Delete(store.HubDevices, previousKey); // DPS removes the device from the hub it leaves
        }

        tx.Put(store.HubDevices, newKey, device);
        var record = new RegistrationEntity(dps.Name, registrationId, groupId, hubHost, deviceId, "assigned", substatus, null, null,
            EmulatorContext.NewEtag(), prior?.Created ?? now, now, sha1, sha256, payload?.DeepClone().AsObject() ?? prior?.Payload);
        tx.Put(store.Registrations, key, record);
        return StoreOperation(tx, dps, record, attested, now);
    }

    private JsonObject StoreOperation(StoreTransaction tx, ProvisioningServiceEntity dps, RegistrationEntity record, Attested attested, DateTimeOffset now)
    {
        var operationId = $"4.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}.{Guid.NewGuid()}";
        var body = new JsonObject
        {
            ["operationId"] = operationId,
            ["status"] = record.Status,
            ["registrationState"] = RegistrationState(record, attested),
        };
        tx.Put(Context.Store.Operations, operationId, new RegistrationOperationEntity(operationId, dps.Name, record.RegistrationId, now, 200, body.DeepClone().AsObject()));
        return body;
    }

    /// <summary>DeviceRegistrationResult (docs/azure-wire.md §6.1).</summary>
    private static JsonObject RegistrationState(RegistrationEntity record, Attested attested)
    {
        var state = new JsonObject();
        var enrollment = attested.Enrollment;
        if (attested.Leaf is not null)
        {
            var x509 = new JsonObject { ["certificateInfo"] = attested.LeafInfo };
            if (enrollment.IsGroup) x509["enrollmentGroupId"] = enrollment.Id;
            if (attested.SigningCertificate is not null) x509["signingCertificateInfo"] = attested.SigningInfo;
            state["x509"] = x509;
        }
        else
        {
            state["symmetricKey"] = enrollment.IsGroup ? new JsonObject { ["enrollmentGroupId"] = enrollment.Id } : new JsonObject();
        }

        state["registrationId"] = record.RegistrationId;
        state["createdDateTimeUtc"] = Timestamp(record.Created);
        if (record.Status == "assigned")
        {
            state["assignedHub"] = record.AssignedHub;
            state["deviceId"] = record.DeviceId;
        }

        state["status"] = record.Status;
        if (record.Substatus is not null && record.Status == "assigned") state["substatus"] = record.Substatus;
        if (record.ErrorCode is { } code) state["errorCode"] = code;
        if (record.ErrorMessage is not null) state["errorMessage"] = record.ErrorMessage;
        state["lastUpdatedDateTimeUtc"] = Timestamp(record.Updated);
        state["etag"] = record.Etag;
        return state;
    }

    internal static JsonObject CertificateInfo(X509Certificate2 certificate) => new()
    {
        ["subjectName"] = certificate.Subject,
        ["sha1Thumbprint"] = certificate.Thumbprint,
        ["sha256Thumbprint"] = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
        ["issuerName"] = certificate.Issuer,
        ["notBeforeUtc"] = Timestamp(certificate.NotBefore.ToUniversalTime()),
        ["notAfterUtc"] = Timestamp(certificate.NotAfter.ToUniversalTime()),
        ["serialNumber"] = certificate.SerialNumber,
        ["version"] = certificate.Version,
    };

    internal static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static (string? Sha1, string? Sha256) Thumbprints(X509Certificate2? leaf) =>
        leaf is null ? (null, null) : (leaf.Thumbprint, Convert.ToHexString(SHA256.HashData(leaf.RawData)));

    /// <summary>"name.azure-devices.net" → "name".</summary>
    internal static string HubName(string hostName) => hostName.Split('.')[0].ToLowerInvariant();

    private static JsonArray Subjects(IEnumerable<X509Certificate2> certificates) => new(certificates.Select(c => (JsonNode)c.Subject).ToArray());

    private static string Reason(DeviceApiError error) => Json.String(error.Info, "reason") ?? error.ErrorCode.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registration {RegistrationId} presented: {Subjects}")]
    private partial void LogPresented(string registrationId, string subjects);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registration {RegistrationId} on DPS {Dps} refused ({Reason}): {Message}")]
    private partial void LogRefused(string registrationId, string dps, string reason, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registration {RegistrationId} on DPS {Dps} via {Enrollment}: {Status} {Hub} {Substatus}")]
    private partial void LogOutcome(string registrationId, string dps, string enrollment, string status, string? hub, string? substatus);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registration ID '{RegistrationId}' has upper-case letters; DPS keeps registration IDs in lower case, so the record and the group device ID use the lower-case form.")]
    private partial void LogUpperCase(string registrationId);
}
