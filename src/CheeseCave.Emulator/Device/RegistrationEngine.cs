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
/// DPS device registration, independent of HTTPS or MQTT: authenticates the device (X.509 chain to a verified CA,
/// or a symmetric-key SAS), finds its enrollment (individual first, then groups from the closest CA up to the root),
/// allocates an IoT hub, applies the reprovision policy, keeps the registration record and creates the device in
/// the hub's registry. Answers synchronously with the finished RegistrationOperationStatus. It orchestrates:
/// <see cref="DeviceAttestor"/> decides who the device is, <see cref="HubAllocator"/> picks the hub and
/// <see cref="RegistrationStore"/> applies the reprovision rules in one store transaction.
/// </summary>
internal sealed partial class RegistrationEngine(EmulatorContext context, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly DeviceAttestor _attestor = new(context, logger ?? NullLogger.Instance);
    private readonly RegistrationStore _records = new(context);

    public EmulatorContext Context { get; } = context;

    public async Task<DeviceApiResult> RegisterAsync(DeviceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (dps, registrationId, error) = Resolve(request);
        if (error is not null) return DeviceApiResult.Fail(error);

        if (CheckBody(request, registrationId!) is { } bodyError) return DeviceApiResult.Fail(bodyError);
        var (attested, refusal) = _attestor.Attest(dps!, request, registrationId!);
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
            var disabled = await Context.Store.WriteAsync(tx => _records.CommitDisabled(tx, dps!, registrationId!, attested, payload)).ConfigureAwait(false);
            LogOutcome(registrationId!, dps!.Name, attested.Enrollment.Kind, "disabled", null, null);
            return DeviceApiResult.Ok(disabled);
        }

        var allocation = HubAllocator.Allocate(dps!, attested.Enrollment, registrationId!);
        if (allocation.NotEmulated)
        {
            return DeviceApiResult.Fail(DeviceErrors.AllocationNotEmulated(allocation.Failure!, allocation.Policy));
        }

        var body = await Context.Store.WriteAsync(tx => _records.CommitAssignment(tx, dps!, registrationId!, attested, allocation, payload)).ConfigureAwait(false);
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
        var (_, refusal) = _attestor.Attest(dps!, request, registrationId!);
        if (refusal is not null) return DeviceApiResult.Fail(refusal);

        var operation = string.IsNullOrEmpty(operationId) ? null : Context.Store.Operations.Get(operationId);
        if (operation is null || !string.Equals(operation.Dps, dps!.Name, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(operation.RegistrationId, registrationId, StringComparison.OrdinalIgnoreCase))
        {
            return DeviceApiResult.Fail(DeviceErrors.OperationNotFound(operationId, registrationId!));
        }

        return new DeviceApiResult(operation.HttpStatus, operation.Response.DeepClone().AsObject(), null);
    }

    /// <summary>POST /{idScope}/registrations/{id}: the device's current registration result.</summary>
    public DeviceApiResult GetRegistrationState(DeviceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (dps, registrationId, error) = Resolve(request);
        if (error is not null) return DeviceApiResult.Fail(error);
        var (attested, refusal) = _attestor.Attest(dps!, request, registrationId!);
        if (refusal is not null) return DeviceApiResult.Fail(refusal);

        var record = Context.Store.Registrations.Get(ArmKeys.Registration(dps!.Name, registrationId!));
        if (record is null)
        {
            return DeviceApiResult.Fail(DeviceErrors.RegistrationNotFound(registrationId!, dps.Name));
        }

        return DeviceApiResult.Ok(RegistrationJson.RegistrationState(record, attested!));
    }

    /// <summary>The DPS of the ID scope and the registration ID in the lower case DPS keeps.</summary>
    private (ProvisioningServiceEntity? Dps, string? RegistrationId, DeviceApiError? Error) Resolve(DeviceRequest request)
    {
        var dps = Context.Store.ProvisioningServices.All.FirstOrDefault(d => string.Equals(d.IdScope, request.IdScope, StringComparison.OrdinalIgnoreCase));
        if (dps is null)
        {
            return (null, null, DeviceErrors.UnknownIdScope(request.IdScope));
        }

        if (CheckRegistrationId(request.RegistrationId) is { } problem)
        {
            return (dps, null, DeviceErrors.InvalidRegistrationId(request.RegistrationId, problem));
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
            return DeviceErrors.RegistrationIdMismatch(inBody, request.RegistrationId);
        }

        if (Json.Get(request.Body, "tpm") is JsonObject)
        {
            return DeviceErrors.TpmNotEmulated();
        }

        return null;
    }

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
