using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.TestRegistration;

/// <summary>
/// Step 10: a simulated device registers with DPS, and the page shows the assignment or the diagnosed error; once
/// assigned, the device connects to its hub, sends one cave reading and reads its twin (<see cref="HubConnectionCheck"/>).
/// </summary>
public sealed class TestRegistrationHandler(SetupPipeline pipeline, IKeyStore keys, DeviceKeyVault deviceKeys)
{
    /// <summary>
    /// Registers a device against the setup's DPS device endpoint over HTTPS or MQTT: an issued device whose key is
    /// still in the download window, or (no <paramref name="deviceId"/>) a throwaway device issued in memory from the
    /// setup's CA and never stored. A refusal by DPS is a successful call with the error, DPS's diagnosis and what to
    /// do. Operator (it uses a device key), audited.
    /// </summary>
    public async Task<PortalResult<TestRegistrationView>> TestRegistrationAsync(ClaimsPrincipal caller, int setupId, int? deviceId, DeviceTransport transport,
        bool leafOnly = false, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var actor = await pipeline.RequireChangeAsync(caller, AuditActions.SetupTestRegistration, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<TestRegistrationView>(PortalError.NotAllowed("run a test registration"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<TestRegistrationView>(PortalError.NotFound);
        }

        if (setup.IdScope is not { } idScope)
        {
            return PortalResult.Fail<TestRegistrationView>(new PortalError("This setup has no DPS (and so no ID scope) yet.", "Finish step 1 first."));
        }

        X509Certificate2 withKey;
        var chain = new X509Certificate2Collection();
        string registrationId;
        try
        {
            if (deviceId is { } id)
            {
                var device = await db.SetupDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.SetupId == setupId, cancellationToken).ConfigureAwait(false);
                if (device is null)
                {
                    return PortalResult.Fail<TestRegistrationView>(PortalError.NotFound);
                }

                registrationId = device.RegistrationId;
                if (deviceKeys.Pkcs8(id) is not { } pkcs8)
                {
                    var gone = DeviceCa.KeyGone(registrationId);
                    return PortalResult.Fail<TestRegistrationView>(gone with { WhatToDo = gone.WhatToDo + " Or test with a throwaway device instead." });
                }

                progress?.Report($"Loading {registrationId}'s certificate and key");
                using (var key = PrivateKey.ImportPkcs8(pkcs8))
                using (var leaf = X509Certificate2.CreateFromPem(device.CertificatePem))
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                    withKey = key.AttachToCertificate(leaf);
                }

                chain.ImportFromPem(device.ChainPem);
                foreach (var self in chain.Where(c => c.Thumbprint == withKey.Thumbprint).ToList())
                {
                    chain.Remove(self);
                }
            }
            else
            {
                var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
                var (root, issuer) = SetupCertificates.SigningCa(setup, cas);
                if (root is null || issuer is null)
                {
                    return PortalResult.Fail<TestRegistrationView>(new PortalError("This setup has no CA whose key the portal holds.", "Generate the CA in step 5 first."));
                }

                registrationId = ThrowawayId(setup.Name);
                progress?.Report($"Issuing the throwaway test device {registrationId}");
                using var credential = await DeviceCa.OpenAsync(keys, issuer, root, cancellationToken).ConfigureAwait(false);
                using var issued = new Pki.CertificateAuthority(pipeline.Time).IssueDeviceCertificate(new DeviceCertificateRequest(registrationId), credential);
                withKey = issued.Key!.AttachToCertificate(issued.Certificate);
                foreach (var intermediate in issued.DeviceChain.Skip(1))
                {
                    chain.Add(X509CertificateLoader.LoadCertificate(intermediate.RawData));
                }
            }
        }
        catch (PkiException ex)
        {
            await pipeline.Audit.WriteAsync(actor, AuditActions.SetupTestRegistration, $"setup {setupId}", AuditOutcomes.Failed, ex.Message, cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<TestRegistrationView>(new PortalError(ex.Message, "Check the CA and its stored key in step 5."));
        }

        using (withKey)
        {
            if (leafOnly)
            {
                chain.Clear();
            }

            var over = transport == DeviceTransport.Mqtt ? "MQTT" : "HTTPS";
            progress?.Report($"Registering {registrationId} over {over}{(leafOnly ? " (leaf certificate only)" : "")}");
            TestRegistrationView view;
            try
            {
                var client = pipeline.Provisioning.CreateDeviceRegistrationClient(caller);
                var result = await client.RegisterAsync(new DeviceRegistrationRequest(idScope, withKey, chain), transport, cancellationToken).ConfigureAwait(false);
                view = FromResult(registrationId, over, result);
            }
            catch (ProvisioningException ex)
            {
                view = FromException(registrationId, over, ex);
            }
            catch (InvalidOperationException ex) when (transport == DeviceTransport.Mqtt)
            {
                view = new TestRegistrationView(registrationId, over, false, "NotAttempted", null, null, null, null, ex.Message, "mqttUnavailable", null, null,
                    "Register over HTTPS instead; MQTT is not available on this connection.");
            }

            progress?.Report(view.Assigned ? $"Assigned to {view.AssignedHub}" : "Refused");
            PortalMetrics.RegistrationTested(view.Assigned ? "assigned" : "refused");
            if (view.Assigned)
            {
                // Step 10 is done once a device really provisioned; a later failed test does not undo that proof.
                var now = pipeline.Time.GetUtcNow();
                var summary = SetupPipeline.Trim($"{registrationId} → {view.AssignedHub} ({view.Substatus ?? "assigned"}) over {over}");
                await db.Setups.Where(s => s.Id == setupId).ExecuteUpdateAsync(u => u
                    .SetProperty(s => s.LastTestAssignedAt, now)
                    .SetProperty(s => s.LastTestSummary, summary)
                    .SetProperty(s => s.UpdatedAt, now)
                    .SetProperty(s => s.UpdatedBy, actor.Name), cancellationToken).ConfigureAwait(false);
            }

            await pipeline.Audit.WriteAsync(actor, AuditActions.SetupTestRegistration, $"setup {setupId}", view.Assigned ? AuditOutcomes.Succeeded : AuditOutcomes.Failed,
                view.Assigned ? $"{registrationId} over {over}: {view.AssignedHub}, {view.Substatus}" : $"{registrationId} over {over}: {view.ErrorCode ?? view.Status} {view.Reason}", cancellationToken).ConfigureAwait(false);
            if (view is { Assigned: true, AssignedHub: { } hubHost })
            {
                // The device goes on as a real one would: to its hub, with the same certificate and chain.
                var hub = await HubConnectionCheck.RunAsync(pipeline.Provisioning.GetConnection(caller), hubHost, setup.Name, withKey, chain, pipeline.Time, progress, cancellationToken).ConfigureAwait(false);
                view = view with { Hub = hub };
                var failed = hub.Lines.FirstOrDefault(l => l.State == HubCheckState.Failed);
                await pipeline.Audit.WriteAsync(actor, TestRegistrationAuditActions.HubCheck, $"setup {setupId}", failed is null ? AuditOutcomes.Succeeded : AuditOutcomes.Failed,
                    SetupPipeline.Trim(failed is null
                        ? $"{registrationId} on {hubHost}: connected, telemetry sent, twin read"
                        : $"{registrationId} on {hubHost}: {failed.Step} failed: {failed.Detail}"), cancellationToken).ConfigureAwait(false);
            }

            return PortalResult.Ok(view);
        }
    }

    private static string ThrowawayId(string setupName)
    {
        var prefix = new string([.. setupName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        prefix = prefix.Length == 0 ? "cave" : prefix.Length > 40 ? prefix[..40].TrimEnd('-') : prefix;
        return $"{prefix}-test-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
    }

    private static TestRegistrationView FromResult(string registrationId, string over, DeviceRegistrationResult result)
    {
        if (result.IsAssigned)
        {
            return new TestRegistrationView(registrationId, over, true, result.Status.ToString(), result.AssignedHub, result.DeviceId, result.Substatus?.ToString(),
                null, null, null, null, null, "The device can now connect to its hub with the same certificate.");
        }

        var info = result.Info;
        string? Get(string key) => info is not null && info.TryGetValue(key, out var value) ? value : null;
        var code = result.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new TestRegistrationView(registrationId, over, false, result.Status.ToString(), null, result.DeviceId, result.Substatus?.ToString(),
            code, result.ErrorMessage, Get("reason"), Get("hint"), Get("missing"),
            WhatToDo(result.Status == RegistrationStatus.Disabled ? "disabled" : Get("reason"), code, Get("hint"), Get("missing")));
    }

    private static TestRegistrationView FromException(string registrationId, string over, ProvisioningException ex)
    {
        string? Get(string key) => ex.Info.TryGetValue(key, out var value) ? value : null;
        var code = ex.ServiceErrorCode ?? (ex.Status == 0 ? null : ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new TestRegistrationView(registrationId, over, false, "Failed", null, null, null, code, ex.Message, Get("reason"), Get("hint"), Get("missing"),
            ex.IsTransient ? "This is usually temporary: wait a moment and try again." : WhatToDo(Get("reason"), code, Get("hint"), Get("missing")));
    }

    /// <summary>What the operator should do about a refusal, in the wizard's terms; DPS's own hint is shown next to it.</summary>
    internal static string WhatToDo(string? reason, string? code, string? hint, string? missing) => reason switch
    {
        "missingChainElements" => $"DPS could not link the device certificate to a verified CA{(missing is null ? "" : $" (missing: {missing})")}. "
            + "Have the device send its -chain.pem (certificate plus intermediate) in the TLS handshake, and check that the CA is uploaded and verified (steps 6 and 7).",
        "caKeyMismatch" => "The CA in DPS is not the one that signed this device. Upload and verify this setup's CA (steps 6 and 7) or issue the device again (step 9).",
        "caNotVerified" or "unverifiedCa" => "Verify the CA with proof of possession in step 7.",
        "noEnrollment" or "enrollmentNotFound" => "No enrollment group matches this device's CA: save the group in step 8 with this setup's CA.",
        "disabled" => "The enrollment group (or this device's registration) is disabled: enable it in step 8 and try again.",
        "unknownIdScope" => "The ID scope is not this DPS's: copy it again from step 4.",
        "certificateExpired" or "certificateNotYetValid" => "Issue a new device certificate in step 9 (and check the clocks).",
        "invalidRegistrationId" or "registrationIdMismatch" => "Issue the device again with a lower-case registration id that follows the rules (step 9).",
        "notEmulated" => "The emulator does not support this allocation; choose evenly weighted, lowest latency or static in step 8.",
        _ when code is "401002" or "401" => "DPS refused the device's certificate. Check that the CA is uploaded and verified (steps 6-7), that the enrollment group uses it (step 8) and that the device sends its chain.",
        _ when code is "404201" or "404" => "DPS found no enrollment for this device: save the enrollment group in step 8.",
        _ => hint ?? "Check the code against the DPS documentation; if it keeps failing, give an administrator the code and the time.",
    };
}
