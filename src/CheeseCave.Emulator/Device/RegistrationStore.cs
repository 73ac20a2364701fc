using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// What a registration changes, inside one store transaction: the registration record, the device in the hub's
/// registry and the stored operation. It holds the reprovision rules: a device keeps its hub unless the enrollment
/// says updateHubAssignment, and moves with or without its data (migrateDeviceData), which the substatus reports
/// (initialAssignment, deviceDataMigrated, deviceDataReset, reprovisionedToInitialAssignment).
/// </summary>
internal sealed class RegistrationStore(EmulatorContext context)
{
    public JsonObject CommitDisabled(StoreTransaction tx, ProvisioningServiceEntity dps, string registrationId, Attested attested, JsonObject? payload)
    {
        var now = context.Time.GetUtcNow();
        var key = ArmKeys.Registration(dps.Name, registrationId);
        var prior = context.Store.Registrations.Get(key);
        var (sha1, sha256) = attested.Thumbprints;
        var record = new RegistrationEntity(dps.Name, registrationId, attested.Enrollment.IsGroup ? attested.Enrollment.Id : null,
            prior?.AssignedHub, prior?.DeviceId, "disabled", null, DeviceErrorCodes.Unauthorized,
            $"The {attested.Enrollment.Kind} is disabled (provisioningStatus 'disabled'), so the device is not provisioned.",
            EmulatorContext.NewEtag(), prior?.Created ?? now, now, sha1, sha256, payload?.DeepClone().AsObject() ?? prior?.Payload);
        tx.Put(context.Store.Registrations, key, record);
        return StoreOperation(tx, dps, record, attested, now);
    }

    public JsonObject CommitAssignment(StoreTransaction tx, ProvisioningServiceEntity dps, string registrationId, Attested attested, Allocation allocation, JsonObject? payload)
    {
        var now = context.Time.GetUtcNow();
        var store = context.Store;
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

        var hubName = RegistrationJson.HubName(hubHost);
        var newKey = ArmKeys.HubDevice(hubName, deviceId);
        HubDeviceEntity? previous = null;
        string? previousKey = null;
        if (priorHub is not null && prior!.DeviceId is { } priorDeviceId)
        {
            previousKey = ArmKeys.HubDevice(RegistrationJson.HubName(priorHub), priorDeviceId);
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
            isX509 ? null : attested.PrimaryKey, isX509 ? null : attested.SecondaryKey ?? attested.PrimaryKey,
            existing?.StatusReason, existing?.StatusUpdated, // a disabled identity stays disabled, with its reason
            source?.Reported?.DeepClone().AsObject(), source?.DesiredVersion ?? 1, source?.ReportedVersion ?? 1); // migrated data keeps its twin
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
            ["registrationState"] = RegistrationJson.RegistrationState(record, attested),
        };
        tx.Put(context.Store.Operations, operationId, new RegistrationOperationEntity(operationId, dps.Name, record.RegistrationId, now, 200, body.DeepClone().AsObject()));
        return body;
    }
}
