using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups;

/// <summary>
/// The DPS setup wizard's use cases. Reading needs Viewer, every change needs Operator; both are re-checked in the
/// database on each call (enabled user, current session, role), whatever the page shows. Every change, and every
/// refused change, writes an audit entry under the caller's name. Azure is reached only through
/// <see cref="ProvisioningConnectionFactory"/>; its errors come back as <see cref="SetupError"/> results.
/// </summary>
public sealed partial class SetupWizardService(
    ICallerAuthorization authorization,
    IDbContextFactory<PortalDbContext> contexts,
    ProvisioningConnectionFactory provisioning,
    AuditLog audit,
    IKeyStore keys,
    TimeProvider time,
    DeviceKeyVault deviceKeys,
    SetupProofStore proofs,
    CheeseCave.Portal.Approvals.ApprovalGate approvals,
    CheeseCave.Portal.Approvals.ApprovalHandoff handoff)
{
    // The primary constructor's parameters are only in scope in this part; the device steps (the other part) use these.
    private IDbContextFactory<PortalDbContext> Contexts => contexts;

    private ProvisioningConnectionFactory Provisioning => provisioning;

    private AuditLog Audit => audit;

    private IKeyStore Keys => keys;

    private TimeProvider Time => time;

    private DeviceKeyVault DeviceKeys => deviceKeys;

    private CheeseCave.Portal.Approvals.ApprovalGate Approvals => approvals;

    private CheeseCave.Portal.Approvals.ApprovalHandoff Handoff => handoff;

    /// <summary>How often a long-running ARM create is polled for the progress line.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(750);

    // ------------------------------------------------------------------ setups

    public async Task<IReadOnlyList<SetupSummary>> ListAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        _ = await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false)
            ?? throw new UnauthorizedAccessException("Only signed-in users with at least the Viewer role can see setups.");
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setups = await db.Setups.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. setups.OrderByDescending(s => s.UpdatedAt).Select(SetupNames.Summarize)];
    }

    public async Task<SetupResult<SetupSummary>> CreateAsync(ClaimsPrincipal caller, string name, CancellationToken cancellationToken = default)
    {
        var actor = await RequireChangeAsync(caller, AuditActions.SetupCreated, name, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<SetupSummary>(SetupError.NotAllowed("create setups"));
        }

        var check = SetupNames.CheckSetupName(name);
        if (!check.IsValid)
        {
            return SetupResult.Fail<SetupSummary>(new SetupError(check.Problem!, "Enter a name and try again."));
        }

        name = name.Trim();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (await db.Setups.AnyAsync(s => s.Name == name, cancellationToken).ConfigureAwait(false))
        {
            return SetupResult.Fail<SetupSummary>(new SetupError($"A setup named \"{name}\" already exists.", "Open that one from the list, or choose another name."));
        }

        var now = time.GetUtcNow();
        string? subscriptionId = null;
        string? resourceGroup = null;
        try
        {
            var connection = provisioning.GetConnection(caller);
            (subscriptionId, resourceGroup) = (connection.SubscriptionId, connection.DefaultResourceGroup);
        }
        catch (ProvisioningException)
        {
            // The emulator is still starting: step 1 asks for the resource group anyway.
        }

        var setup = new DpsSetup
        {
            Name = name,
            CreatedBy = actor.Name,
            CreatedAt = now,
            UpdatedBy = actor.Name,
            UpdatedAt = now,
            CurrentStep = 1,
            SubscriptionId = subscriptionId,
            ResourceGroup = resourceGroup,
        };
        db.Setups.Add(setup);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.SetupCreated, Target(setup), AuditOutcomes.Succeeded, cancellationToken: cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok<SetupSummary>(SetupNames.Summarize(setup));
    }

    /// <summary>The setup with its DPS read live from Azure (when it has one) and every step's status.</summary>
    public async Task<SetupResult<SetupView>> GetAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        var actor = await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<SetupView>(SetupError.NotAllowed("see setups"));
        }

        var canChange = await RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().Include(s => s.Certificates).FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return SetupResult.Fail<SetupView>(SetupError.NotFound);
        }

        ProvisioningServiceInfo? dps = null;
        SetupError? liveError = null;
        if (setup is { ResourceGroup: { } group, DpsName: { } dpsName })
        {
            try
            {
                dps = await provisioning.CreateArmClient(caller).GetProvisioningServiceAsync(group, dpsName, cancellationToken).ConfigureAwait(false);
                if (dps is null)
                {
                    liveError = new SetupError($"The DPS '{dpsName}' no longer exists in resource group '{group}'.", "Create it again or pick another one in step 1.");
                }
            }
            catch (ProvisioningException ex)
            {
                liveError = SetupError.From(ex);
            }
        }

        var devices = await db.SetupDevices.CountAsync(d => d.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok<SetupView>(View(setup, dps, liveError, canChange, devices));
    }

    /// <summary>Remembers the step the user is on, so reopening the setup resumes there.</summary>
    public async Task<SetupResult<bool>> SetCurrentStepAsync(ClaimsPrincipal caller, int setupId, int step, CancellationToken cancellationToken = default)
    {
        if (step < 1 || step > WizardStep.All.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "There are ten steps.");
        }

        var actor = await RequireChangeAsync(caller, AuditActions.SetupStepChanged, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<bool>(SetupError.NotAllowed("move through the wizard"));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return SetupResult.Fail<bool>(SetupError.NotFound);
        }

        if (setup.CurrentStep == step)
        {
            return SetupResult.Ok(false);
        }

        var from = setup.CurrentStep;
        setup.CurrentStep = step;
        setup.UpdatedBy = actor.Name;
        setup.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(actor, AuditActions.SetupStepChanged, Target(setup), AuditOutcomes.Succeeded, $"step {from} → {step}", cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(true);
    }

    // ------------------------------------------------------------------ step 1: DPS

    public Task<SetupResult<IReadOnlyList<ResourceGroupInfo>>> ListResourceGroupsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default) =>
        ReadAsync(caller, arm => arm.ListResourceGroupsAsync(cancellationToken), cancellationToken);

    public Task<SetupResult<IReadOnlyList<ProvisioningServiceInfo>>> ListProvisioningServicesAsync(ClaimsPrincipal caller, string resourceGroup, CancellationToken cancellationToken = default) =>
        ReadAsync(caller, arm => arm.ListProvisioningServicesAsync(resourceGroup, cancellationToken), cancellationToken);

    /// <summary>The name rules first, then whether the (global) name is still free.</summary>
    public async Task<SetupResult<NameCheck>> CheckDpsNameAsync(ClaimsPrincipal caller, string name, CancellationToken cancellationToken = default)
    {
        var rules = SetupNames.CheckDpsName(name);
        if (!rules.IsValid)
        {
            return SetupResult.Ok<NameCheck>(rules);
        }

        return await ReadAsync<NameCheck>(caller, async arm =>
        {
            var availability = await arm.CheckProvisioningServiceNameAvailabilityAsync(name, cancellationToken).ConfigureAwait(false);
            return availability.IsAvailable
                ? new NameCheck(true, null)
                : new NameCheck(false, availability.Message ?? $"The name '{name}' is taken ({availability.Reason ?? "unavailable"}). DPS names are global; try another.");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a DPS and makes it this setup's, reporting ARM's status text while it runs.</summary>
    public Task<SetupResult<ProvisioningServiceInfo>> CreateDpsAsync(ClaimsPrincipal caller, int setupId, string resourceGroup, string name, string location, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        ChangeAsync<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupDpsCreated, $"{resourceGroup}/{name} in {location}", "create a DPS", async (setup, arm, _) =>
        {
            var rules = SetupNames.CheckDpsName(name);
            if (!rules.IsValid)
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError(rules.Problem!, "Correct the name and try again."));
            }

            if (string.IsNullOrWhiteSpace(location))
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError("A location is required.", "Pick the Azure region closest to your devices."));
            }

            progress?.Report("Checking the name");
            var availability = await arm.CheckProvisioningServiceNameAvailabilityAsync(name, cancellationToken).ConfigureAwait(false);
            if (!availability.IsAvailable)
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError(availability.Message ?? $"The name '{name}' is taken.", "DPS names are global: choose another name, or pick the existing DPS if it is yours."));
            }

            progress?.Report("Submitting");
            var operation = await arm.StartCreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(resourceGroup, name, location), cancellationToken).ConfigureAwait(false);
            progress?.Report(operation.StatusText);
            while (!await operation.UpdateStatusAsync(cancellationToken).ConfigureAwait(false))
            {
                progress?.Report(operation.StatusText);
                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(operation.StatusText);
            var dps = operation.Value ?? await arm.GetProvisioningServiceAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false)
                ?? throw new ProvisioningException($"Could not read DPS '{name}' after creating it.");
            Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 2);
            return SetupResult.Ok<ProvisioningServiceInfo>(dps);
        }, cancellationToken);

    /// <summary>Makes an existing DPS this setup's.</summary>
    public Task<SetupResult<ProvisioningServiceInfo>> SelectDpsAsync(ClaimsPrincipal caller, int setupId, string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        ChangeAsync<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupDpsSelected, $"{resourceGroup}/{name}", "pick a DPS", async (setup, arm, _) =>
        {
            var dps = await arm.GetProvisioningServiceAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
            if (dps is null)
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError($"There is no DPS '{name}' in resource group '{resourceGroup}'.", "Refresh the list and pick another, or create one."));
            }

            Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 2);
            return SetupResult.Ok<ProvisioningServiceInfo>(dps);
        }, cancellationToken);

    // ------------------------------------------------------------------ step 2: hubs

    public Task<SetupResult<IReadOnlyList<IotHubInfo>>> ListHubsAsync(ClaimsPrincipal caller, string resourceGroup, CancellationToken cancellationToken = default) =>
        ReadAsync(caller, arm => arm.ListIotHubsAsync(resourceGroup, cancellationToken), cancellationToken);

    /// <summary>Only the policies with RegistryWrite and ServiceConnect, iothubowner first. Keys are dropped here.</summary>
    public Task<SetupResult<IReadOnlyList<HubPolicyChoice>>> ListHubPoliciesAsync(ClaimsPrincipal caller, string resourceGroup, string hubName, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<HubPolicyChoice>>(caller, async arm =>
        {
            var policies = await arm.ListIotHubProvisioningPoliciesAsync(resourceGroup, hubName, cancellationToken).ConfigureAwait(false);
            return [.. policies.Select(p => new HubPolicyChoice(p.KeyName, p.Rights))];
        }, cancellationToken);

    public Task<SetupResult<IotHubInfo>> CreateHubAsync(ClaimsPrincipal caller, int setupId, string name, string location, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        ChangeAsync<IotHubInfo>(caller, setupId, AuditActions.SetupHubCreated, $"{name} in {location}", "create an IoT hub", async (setup, arm, _) =>
        {
            var rules = SetupNames.CheckHubName(name);
            if (!rules.IsValid)
            {
                return SetupResult.Fail<IotHubInfo>(new SetupError(rules.Problem!, "Correct the name and try again."));
            }

            if (setup.ResourceGroup is not { } group)
            {
                return SetupResult.Fail<IotHubInfo>(new SetupError("This setup has no resource group yet.", "Finish step 1 first."));
            }

            progress?.Report("Submitting");
            var operation = await arm.StartCreateIotHubAsync(new IotHubCreateOptions(group, name, location), cancellationToken).ConfigureAwait(false);
            while (!await operation.UpdateStatusAsync(cancellationToken).ConfigureAwait(false))
            {
                progress?.Report(operation.StatusText);
                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(operation.StatusText);
            var hub = operation.Value ?? await arm.GetIotHubAsync(group, name, cancellationToken).ConfigureAwait(false)
                ?? throw new ProvisioningException($"Could not read IoT hub '{name}' after creating it.");
            return SetupResult.Ok<IotHubInfo>(hub);
        }, cancellationToken);

    /// <summary>Links a hub to the setup's DPS with the chosen policy's connection string (read and used on the server only).</summary>
    public Task<SetupResult<ProvisioningServiceInfo>> LinkHubAsync(ClaimsPrincipal caller, int setupId, string hubName, string policyName, int allocationWeight, bool applyAllocationPolicy, CancellationToken cancellationToken = default) =>
        ChangeAsync<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupHubLinked, $"{hubName} via {policyName}, weight {allocationWeight}, apply {applyAllocationPolicy}", "link IoT hubs", async (setup, arm, _) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            if (allocationWeight is < 1 or > 1000)
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError("The allocation weight is between 1 and 1000.", "Correct the weight and try again."));
            }

            var usable = await arm.ListIotHubProvisioningPoliciesAsync(group, hubName, cancellationToken).ConfigureAwait(false);
            if (!usable.Any(p => p.KeyName.Equals(policyName, StringComparison.OrdinalIgnoreCase)))
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError($"The policy '{policyName}' of hub '{hubName}' lacks RegistryWrite or ServiceConnect, which DPS needs.", "Pick iothubowner or another policy with both rights."));
            }

            var hub = await arm.GetIotHubAsync(group, hubName, cancellationToken).ConfigureAwait(false)
                ?? throw new ProvisioningException($"Could not read IoT hub '{hubName}': it does not exist in '{group}'.");
            var connectionString = await arm.GetIotHubConnectionStringAsync(group, hubName, policyName, cancellationToken).ConfigureAwait(false);
            var dps = await arm.LinkIotHubAsync(group, dpsName, new LinkIotHubOptions(connectionString, hub.Location)
            {
                AllocationWeight = allocationWeight,
                ApplyAllocationPolicy = applyAllocationPolicy,
            }, cancellationToken).ConfigureAwait(false);
            Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 3);
            return SetupResult.Ok<ProvisioningServiceInfo>(dps);
        }, cancellationToken);

    // ------------------------------------------------------------------ step 3: allocation policy

    public Task<SetupResult<ProvisioningServiceInfo>> SetAllocationPolicyAsync(ClaimsPrincipal caller, int setupId, DpsAllocationPolicy policy, CancellationToken cancellationToken = default) =>
        ChangeAsync<ProvisioningServiceInfo>(caller, setupId, AuditActions.SetupAllocationPolicy, policy.ToString(), "change the allocation policy", async (setup, arm, _) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return SetupResult.Fail<ProvisioningServiceInfo>(new SetupError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            var dps = await arm.UpdateAllocationPolicyAsync(group, dpsName, policy, cancellationToken).ConfigureAwait(false);
            Apply(setup, dps);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 4);
            return SetupResult.Ok<ProvisioningServiceInfo>(dps);
        }, cancellationToken);

    // ------------------------------------------------------------------ step 5: the CA

    /// <summary>
    /// Generates a root CA (and optionally an intermediate signed by it) in-process. Keys go straight into the
    /// protected key store; only certificates (public) are stored with the setup.
    /// </summary>
    public async Task<SetupResult<SetupCertificateView>> GenerateCaAsync(ClaimsPrincipal caller, int setupId, string rootSubject, string? intermediateSubject, ProfilePreset preset, CancellationToken cancellationToken = default)
    {
        var payload = new CreateCaPayload(rootSubject, intermediateSubject, preset);
        return await GateAsync<SetupCertificateView>(caller, setupId, payload, AuditActions.SetupCaGenerated, "generate a CA", cancellationToken).ConfigureAwait(false)
            ?? await GenerateCaNowAsync(caller, setupId, payload, null, cancellationToken).ConfigureAwait(false);
    }

    private Task<SetupResult<SetupCertificateView>> GenerateCaNowAsync(ClaimsPrincipal caller, int setupId, CreateCaPayload payload, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var (rootSubject, intermediateSubject, preset) = (payload.RootSubject, payload.IntermediateSubject, payload.Preset);
        return ChangeAsync<SetupCertificateView>(caller, setupId, AuditActions.SetupCaGenerated,
            Noted($"{preset}: root \"{rootSubject}\"" + (string.IsNullOrWhiteSpace(intermediateSubject) ? "" : $", intermediate \"{intermediateSubject}\""), grant), "generate a CA", async (setup, _, db) =>
        {
            if (setup.RootCertificateId is not null)
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("This setup already has a CA.", "Use it, or create a new setup for another CA."));
            }

            if (string.IsNullOrWhiteSpace(rootSubject))
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("The root CA needs a name.", "Enter a common name such as \"Contoso Cave Root CA\"."));
            }

            var authority = new CertificateAuthority(time);
            var actor = Actor.From(caller);
            IssuedCertificate root;
            try
            {
                root = authority.CreateRoot(new RootCaRequest(rootSubject.Trim()) { Preset = preset });
            }
            catch (PkiException ex)
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError(ex.Message, "Correct the name and try again."));
            }

            using (root)
            {
                var rootEntity = await StoreAsync(db, setup, SetupCertificateKind.Root, root, actor, cancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrWhiteSpace(intermediateSubject))
                {
                    using var credential = root.ToCaCredential();
                    IssuedCertificate intermediate;
                    try
                    {
                        intermediate = authority.CreateIntermediate(new IntermediateCaRequest(intermediateSubject.Trim()) { Preset = preset }, credential);
                    }
                    catch (PkiException ex)
                    {
                        return SetupResult.Fail<SetupCertificateView>(new SetupError(ex.Message, "Choose another name for the intermediate CA."));
                    }

                    using (intermediate)
                    {
                        await StoreAsync(db, setup, SetupCertificateKind.Intermediate, intermediate, actor, cancellationToken).ConfigureAwait(false);
                    }
                }

                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                setup.RootCertificateId = rootEntity.Id;
                setup.CurrentStep = Math.Max(setup.CurrentStep, 6);
                return SetupResult.Ok(ToView(rootEntity));
            }
        }, cancellationToken);
    }

    // ------------------------------------------------------------------ steps 6 and 7: upload and proof of possession

    /// <summary>
    /// Uploads the setup's root CA certificate (public part only) to its DPS: unverified, or, when the user chose it
    /// explicitly, <paramref name="verifiedOnUpload"/> (DPS then trusts it without proof of possession, so that choice
    /// is gated like proof of possession).
    /// </summary>
    public async Task<SetupResult<SetupCertificateView>> UploadCaAsync(ClaimsPrincipal caller, int setupId, bool verifiedOnUpload = false, CancellationToken cancellationToken = default) =>
        await GateAsync<SetupCertificateView>(caller, setupId, new UploadCaPayload("", verifiedOnUpload), AuditActions.SetupCaUploaded, "upload the CA", cancellationToken).ConfigureAwait(false)
        ?? await UploadCaNowAsync(caller, setupId, verifiedOnUpload, null, null, cancellationToken).ConfigureAwait(false);

    /// <param name="expectedThumbprint">When applying an approval: the root CA the approvers saw; any other is refused.</param>
    private Task<SetupResult<SetupCertificateView>> UploadCaNowAsync(ClaimsPrincipal caller, int setupId, bool verifiedOnUpload, string? expectedThumbprint, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        ChangeAsync<SetupCertificateView>(caller, setupId, AuditActions.SetupCaUploaded, Noted(verifiedOnUpload ? "root CA, marked verified on upload" : "root CA", grant), "upload the CA", async (setup, arm, db) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            var root = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == setup.RootCertificateId, cancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("This setup has no CA yet.", "Generate it in step 5 first."));
            }

            if (CaChanged(root, expectedThumbprint) is { } changed)
            {
                return SetupResult.Fail<SetupCertificateView>(changed);
            }

            using var x509 = X509Certificate2.CreateFromPem(root.Pem);
            var name = root.DpsCertificateName ?? FileNameFor(root);
            var uploaded = await arm.UploadCertificateAsync(group, dpsName, name, x509, isVerified: verifiedOnUpload, cancellationToken).ConfigureAwait(false);
            root.DpsCertificateName = uploaded.Name;
            root.IsVerified = uploaded.IsVerified;
            setup.CurrentStep = Math.Max(setup.CurrentStep, uploaded.IsVerified ? 8 : 7);
            return SetupResult.Ok(ToView(root));
        }, cancellationToken);

    /// <summary>
    /// Proof of possession in one go: DPS generates a code, the portal signs a verification certificate with
    /// exactly this CA's key (opened from the protected store, used on the server, never shown) and submits it.
    /// </summary>
    public async Task<SetupResult<SetupCertificateView>> VerifyCaAsync(ClaimsPrincipal caller, int setupId, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        await GateAsync<SetupCertificateView>(caller, setupId, new ProveCaPayload(""), AuditActions.SetupCaVerified, "verify the CA", cancellationToken).ConfigureAwait(false)
        ?? await VerifyCaNowAsync(caller, setupId, null, null, progress, cancellationToken).ConfigureAwait(false);

    private Task<SetupResult<SetupCertificateView>> VerifyCaNowAsync(ClaimsPrincipal caller, int setupId, string? expectedThumbprint, ApprovalGrant? grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        ChangeAsync<SetupCertificateView>(caller, setupId, AuditActions.SetupCaVerified, Noted("root CA proof of possession", grant), "verify the CA", async (setup, arm, db) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            var root = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == setup.RootCertificateId, cancellationToken).ConfigureAwait(false);
            if (root?.DpsCertificateName is not { } certificateName)
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first."));
            }

            if (CaChanged(root, expectedThumbprint) is { } changed)
            {
                return SetupResult.Fail<SetupCertificateView>(changed);
            }

            if (root.KeyId is not { } keyId)
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("The portal does not hold this CA's private key.", "Sign the verification certificate where the key is kept."));
            }

            progress?.Report("Asking DPS for a verification code");
            var code = await arm.GenerateVerificationCodeAsync(group, dpsName, certificateName, cancellationToken).ConfigureAwait(false);
            progress?.Report("Signing the verification certificate");
            using var x509 = X509Certificate2.CreateFromPem(root.Pem);
            var key = await keys.OpenAsync(keyId, cancellationToken).ConfigureAwait(false);
            using var credential = CaCredential.Create(x509, key);
            using var verification = new CertificateAuthority(time).CreateVerificationCertificate(
                new VerificationCertificateRequest(code.Code) { CertificateBeingVerified = x509 }, credential);
            progress?.Report("Submitting the proof to DPS");
            var verified = await arm.VerifyCertificateAsync(group, dpsName, certificateName, verification.Certificate, cancellationToken).ConfigureAwait(false);
            root.IsVerified = verified.IsVerified;
            if (!verified.IsVerified)
            {
                return SetupResult.Fail<SetupCertificateView>(new SetupError("DPS did not mark the CA as verified.", "Try again; if it persists, upload the CA again in step 6."));
            }

            await RememberVerificationAsync(setup.Id, root.Id, verification.Certificate, cancellationToken).ConfigureAwait(false);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 8);
            return SetupResult.Ok(ToView(root));
        }, cancellationToken);

    /// <summary>A certificate of the setup as PEM or DER, for the download endpoint. Public material only; audited.</summary>
    public async Task<SetupResult<CertificateFile>> DownloadCertificateAsync(ClaimsPrincipal caller, int setupId, int certificateId, bool der, CancellationToken cancellationToken = default)
    {
        var actor = await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), AuditActions.SetupCertificateDownloaded, $"setup {setupId} certificate {certificateId}", AuditOutcomes.Denied, cancellationToken: cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(SetupError.NotAllowed("download certificates"));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var certificate = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        if (certificate is null)
        {
            return SetupResult.Fail<CertificateFile>(SetupError.NotFound);
        }

        var baseName = FileNameFor(certificate);
        CertificateFile file;
        if (der)
        {
            using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
            file = new CertificateFile(baseName + ".cer", "application/pkix-cert", CertificateExport.ToDer(x509));
        }
        else
        {
            file = new CertificateFile(baseName + ".pem", "application/x-pem-file", System.Text.Encoding.ASCII.GetBytes(certificate.Pem));
        }

        await audit.WriteAsync(actor, AuditActions.SetupCertificateDownloaded, $"setup {setupId} certificate {certificateId}", AuditOutcomes.Succeeded, file.FileName, cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(file);
    }

    private async Task<SetupCertificate> StoreAsync(PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, IssuedCertificate issued, Actor actor, CancellationToken cancellationToken)
    {
        var keyId = $"setup-{setup.Id}/{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}";
        await keys.SaveAsync(keyId, issued.Key!, cancellationToken).ConfigureAwait(false);
        var certificate = issued.Certificate;
        var entity = new SetupCertificate
        {
            SetupId = setup.Id,
            Kind = kind,
            Subject = certificate.Subject,
            ThumbprintSha1 = certificate.Thumbprint,
            ThumbprintSha256 = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)),
            NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime()),
            NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            Pem = CertificateExport.ToPem(certificate),
            KeyId = keyId,
            CreatedBy = actor.Name,
            CreatedAt = time.GetUtcNow(),
        };
        db.SetupCertificates.Add(entity);
        return entity;
    }

    private static string FileNameFor(SetupCertificate certificate)
    {
        using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
        var cn = x509.GetNameInfo(X509NameType.SimpleName, false);
        var safe = new string([.. (string.IsNullOrWhiteSpace(cn) ? certificate.Kind.ToString() : cn).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]).Trim('-');
        return string.IsNullOrEmpty(safe) ? certificate.Kind.ToString().ToLowerInvariant() : safe.ToLowerInvariant();
    }

    private static SetupCertificateView ToView(SetupCertificate certificate)
    {
        using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
        return new SetupCertificateView(certificate.Id, certificate.Kind, certificate.Subject, certificate.ThumbprintSha1, certificate.ThumbprintSha256,
            certificate.NotBefore, certificate.NotAfter, certificate.KeyId is not null, certificate.DpsCertificateName, certificate.IsVerified,
            CertificateDescription.Of(x509), certificate.CreatedBy, certificate.CreatedAt);
    }

    // ------------------------------------------------------------------ step 8: enrollment group

    /// <summary>The setup's enrollment group as DPS reports it now, or null when step 8 has not saved one yet.</summary>
    public async Task<SetupResult<EnrollmentGroupView?>> GetEnrollmentGroupAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return SetupResult.Fail<EnrollmentGroupView?>(SetupError.NotAllowed("read setups"));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return SetupResult.Fail<EnrollmentGroupView?>(SetupError.NotFound);
        }

        if (setup is not { EnrollmentGroupId: { } groupId, ResourceGroup: { } group, DpsName: { } dpsName })
        {
            return SetupResult.Ok<EnrollmentGroupView?>(null);
        }

        try
        {
            using var service = await DpsServiceAsync(caller, provisioning.CreateArmClient(caller), group, dpsName, cancellationToken).ConfigureAwait(false);
            var live = await service.GetEnrollmentGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
            return live is null
                ? SetupResult.Fail<EnrollmentGroupView?>(new SetupError($"The enrollment group '{groupId}' no longer exists in the DPS.", "Save it again in step 8."))
                : SetupResult.Ok<EnrollmentGroupView?>(EnrollmentGroupView.From(live));
        }
        catch (ProvisioningException ex)
        {
            return SetupResult.Fail<EnrollmentGroupView?>(SetupError.From(ex));
        }
    }

    /// <summary>
    /// Creates or updates the setup's X.509 enrollment group (the client reads the etag fresh) after checking the id,
    /// the CA (a verified certificate of this setup), the hubs (linked to its DPS) and the initial twin JSON.
    /// </summary>
    public async Task<SetupResult<EnrollmentGroupView>> SaveEnrollmentGroupAsync(ClaimsPrincipal caller, int setupId, EnrollmentGroupForm form, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(form);
        var payload = new SaveEnrollmentGroupPayload(CopyOf(form));
        return await GateAsync<EnrollmentGroupView>(caller, setupId, payload, AuditActions.SetupEnrollmentGroupSaved, "save the enrollment group", cancellationToken).ConfigureAwait(false)
            ?? await SaveEnrollmentGroupNowAsync(caller, setupId, payload.Form, null, cancellationToken).ConfigureAwait(false);
    }

    private Task<SetupResult<EnrollmentGroupView>> SaveEnrollmentGroupNowAsync(ClaimsPrincipal caller, int setupId, EnrollmentGroupForm form, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        return ChangeAsync<EnrollmentGroupView>(caller, setupId, AuditActions.SetupEnrollmentGroupSaved, Noted($"{form.GroupId} (CA {form.PrimaryCa}, {form.AllocationPolicy}, {(form.Enabled ? "enabled" : "disabled")})", grant), "save the enrollment group", async (setup, arm, db) =>
        {
            static SetupResult<EnrollmentGroupView> Invalid(string problem, string whatToDo) => SetupResult.Fail<EnrollmentGroupView>(new SetupError(problem, whatToDo));

            var id = form.GroupId?.Trim() ?? "";
            var idCheck = EnrollmentRules.CheckGroupId(id);
            if (!idCheck.IsValid)
            {
                return Invalid(idCheck.Problem!, "Correct the enrollment group id and try again.");
            }

            var (tags, tagsProblem) = EnrollmentRules.ParseTwinObject(form.TagsJson, "tags");
            if (tagsProblem is not null)
            {
                return Invalid(tagsProblem, "Fix the tags JSON (or empty the field) and try again.");
            }

            var (desired, desiredProblem) = EnrollmentRules.ParseTwinObject(form.DesiredJson, "desired properties");
            if (desiredProblem is not null)
            {
                return Invalid(desiredProblem, "Fix the desired properties JSON (or empty the field) and try again.");
            }

            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return Invalid("This setup has no DPS yet.", "Finish step 1 first.");
            }

            var verified = await db.SetupCertificates.AsNoTracking()
                .Where(c => c.SetupId == setup.Id && c.IsVerified && c.DpsCertificateName != null)
                .Select(c => c.DpsCertificateName!).ToListAsync(cancellationToken).ConfigureAwait(false);
            if (verified.Count == 0)
            {
                return Invalid("This setup has no verified CA in its DPS yet.", "Upload the CA in step 6 and verify it in step 7 first.");
            }

            if (!verified.Contains(form.PrimaryCa, StringComparer.Ordinal))
            {
                return Invalid($"'{form.PrimaryCa}' is not a verified CA of this setup.", "Pick the primary CA from the list.");
            }

            var secondary = string.IsNullOrWhiteSpace(form.SecondaryCa) ? null : form.SecondaryCa;
            if (secondary is not null && (!verified.Contains(secondary, StringComparer.Ordinal) || secondary == form.PrimaryCa))
            {
                return Invalid($"'{secondary}' cannot be the secondary CA.", "Pick another verified CA than the primary, or none.");
            }

            var dps = await arm.GetProvisioningServiceAsync(group, dpsName, cancellationToken).ConfigureAwait(false);
            if (dps is null)
            {
                return Invalid($"The DPS '{dpsName}' no longer exists.", "Create it again or pick another one in step 1.");
            }

            var linked = dps.LinkedHubs.Select(h => h.HostName).ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (linked.Count == 0)
            {
                return Invalid("The DPS has no linked IoT hub, so devices would have nowhere to go.", "Link a hub in step 2 first.");
            }

            var unknown = form.Hubs.Where(h => !linked.Contains(h)).ToList();
            if (unknown.Count > 0)
            {
                return Invalid($"Not linked to this DPS: {string.Join(", ", unknown)}.", "Pick hubs from the list of linked hubs (step 2 links more).");
            }

            if (form.AllocationPolicy == CheeseCave.Provisioning.DpsService.AllocationPolicy.Custom)
            {
                return Invalid("Custom allocation (an Azure Function) is not set up by the wizard.", "Choose evenly weighted, lowest latency or static.");
            }

            if (form.AllocationPolicy == CheeseCave.Provisioning.DpsService.AllocationPolicy.Static && form.Hubs.Count != 1)
            {
                return Invalid("Static allocation needs exactly one hub.", "Pick the one hub every device of the group goes to.");
            }

            var enrollment = new CheeseCave.Provisioning.DpsService.EnrollmentGroup
            {
                EnrollmentGroupId = id,
                Attestation = CheeseCave.Provisioning.DpsService.AttestationMechanism.FromCaReferences(form.PrimaryCa, secondary),
                Capabilities = new CheeseCave.Provisioning.DpsService.DeviceCapabilities { IotEdge = form.IotEdge },
                IotHubs = form.Hubs.Count == 0 ? null : [.. form.Hubs],
                AllocationPolicy = form.AllocationPolicy,
                ReprovisionPolicy = form.Reprovision switch
                {
                    ReprovisionChoice.NeverReassign => new() { UpdateHubAssignment = false, MigrateDeviceData = false },
                    ReprovisionChoice.ReassignAndReset => new() { UpdateHubAssignment = true, MigrateDeviceData = false },
                    _ => new() { UpdateHubAssignment = true, MigrateDeviceData = true },
                },
                InitialTwin = tags is null && desired is null ? null : new()
                {
                    Tags = tags,
                    Properties = desired is null ? null : new() { Desired = desired },
                },
                ProvisioningStatus = form.Enabled ? CheeseCave.Provisioning.DpsService.ProvisioningStatus.Enabled : CheeseCave.Provisioning.DpsService.ProvisioningStatus.Disabled,
            };

            using var service = await DpsServiceAsync(caller, arm, group, dpsName, cancellationToken).ConfigureAwait(false);
            var saved = await service.CreateOrUpdateEnrollmentGroupAsync(enrollment, cancellationToken).ConfigureAwait(false);
            setup.EnrollmentGroupId = saved.EnrollmentGroupId;
            setup.CurrentStep = Math.Max(setup.CurrentStep, 9);
            return SetupResult.Ok(EnrollmentGroupView.From(saved));
        }, cancellationToken);
    }

    private async Task<CheeseCave.Provisioning.DpsService.DpsServiceClient> DpsServiceAsync(ClaimsPrincipal caller, ArmProvisioningClient arm, string group, string dpsName, CancellationToken cancellationToken)
    {
        var connectionString = await arm.GetProvisioningServiceConnectionStringAsync(group, dpsName, cancellationToken: cancellationToken).ConfigureAwait(false);
        return provisioning.CreateDpsServiceClient(caller, connectionString);
    }

    // ------------------------------------------------------------------ plumbing

    private static void Apply(DpsSetup setup, ProvisioningServiceInfo dps)
    {
        setup.ResourceGroup = dps.ResourceGroup;
        setup.DpsName = dps.Name;
        setup.Location = dps.Location;
        setup.IdScope = dps.IdScope;
        setup.ServiceHost = dps.ServiceHost;
        setup.DeviceHost = dps.DeviceHost;
        setup.AllocationPolicy = dps.AllocationPolicy?.ToString();
        setup.LinkedHubs = SetupNames.SummarizeHubs(dps.LinkedHubs);
    }

    private static string Target(DpsSetup setup) => $"setup {setup.Id} \"{setup.Name}\"";

    private async Task<SetupResult<T>> ReadAsync<T>(ClaimsPrincipal caller, Func<ArmProvisioningClient, Task<T>> read, CancellationToken cancellationToken)
    {
        if (await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return SetupResult.Fail<T>(SetupError.NotAllowed("read setups"));
        }

        try
        {
            return SetupResult.Ok<T>(await read(provisioning.CreateArmClient(caller)).ConfigureAwait(false));
        }
        catch (ProvisioningException ex)
        {
            return SetupResult.Fail<T>(SetupError.From(ex));
        }
    }

    /// <summary>
    /// Checks the Operator role, loads the setup, runs <paramref name="change"/>, saves with the caller as last
    /// editor and audits the outcome (succeeded or failed, with the service's code).
    /// </summary>
    private async Task<SetupResult<T>> ChangeAsync<T>(
        ClaimsPrincipal caller, int setupId, string action, string detail, string what,
        Func<DpsSetup, ArmProvisioningClient, PortalDbContext, Task<SetupResult<T>>> change, CancellationToken cancellationToken)
    {
        var actor = await RequireChangeAsync(caller, action, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<T>(SetupError.NotAllowed(what));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return SetupResult.Fail<T>(SetupError.NotFound);
        }

        SetupResult<T> result;
        try
        {
            result = await change(setup, provisioning.CreateArmClient(caller), db).ConfigureAwait(false);
        }
        catch (ProvisioningException ex)
        {
            var error = SetupError.From(ex);
            await audit.WriteAsync(actor, action, Target(setup), AuditOutcomes.Failed, Trim($"{detail}: {error.ServiceCode ?? error.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "error"}"), cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<T>(error);
        }
        catch (PkiException ex)
        {
            var error = new SetupError(ex.Message, "Check the certificate and its stored key; if the key is unreadable, the portal's keys/ folder may have been lost or replaced.");
            await audit.WriteAsync(actor, action, Target(setup), AuditOutcomes.Failed, Trim($"{detail}: {ex.Message}"), cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<T>(error);
        }

        if (result.Error is not null)
        {
            await audit.WriteAsync(actor, action, Target(setup), AuditOutcomes.Failed, Trim($"{detail}: {result.Error.Message}"), cancellationToken).ConfigureAwait(false);
            return result;
        }

        setup.UpdatedBy = actor.Name;
        setup.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await audit.WriteAsync(actor, action, Target(setup), AuditOutcomes.Succeeded, Trim(detail), cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static string Trim(string text) => text.Length > 500 ? text[..500] : text;

    /// <summary>The caller as an actor when allowed to change setups; otherwise null, and the refusal is audited.</summary>
    private async Task<Actor?> RequireChangeAsync(ClaimsPrincipal caller, string action, string target, CancellationToken cancellationToken)
    {
        var actor = await RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), action, target, AuditOutcomes.Denied, "Operator role required", cancellationToken).ConfigureAwait(false);
        }

        return actor;
    }

    /// <summary>The caller when allowed to act with at least <paramref name="role"/> right now (see <see cref="ICallerAuthorization"/>); otherwise null.</summary>
    private Task<Actor?> RequireAsync(ClaimsPrincipal caller, string role, CancellationToken cancellationToken) =>
        authorization.RequireAsync(caller, role, cancellationToken);

    private static SetupView View(DpsSetup setup, ProvisioningServiceInfo? dps, SetupError? liveError, bool canChange, int deviceCount)
    {
        var hubs = dps?.LinkedHubs ?? [];
        var policy = dps?.AllocationPolicy ?? SetupNames.ParsePolicy(setup.AllocationPolicy);
        var idScope = dps?.IdScope ?? setup.IdScope;
        var hasDps = setup.DpsName is not null;
        var dpsLive = dps is not null;

        var steps = new List<WizardStepStatus>();
        foreach (var step in WizardStep.All)
        {
            steps.Add(step.Number switch
            {
                1 => dpsLive
                    ? new(step, StepState.Done, $"{dps!.Name} in {dps.Location}")
                    : hasDps ? new(step, StepState.Ready, $"{setup.DpsName} not found") : new(step, StepState.Ready, "No DPS yet"),
                2 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : hubs.Count > 0 ? new(step, StepState.Done, hubs.Count == 1 ? $"1 hub: {hubs[0].HostName}" : $"{hubs.Count} hubs linked")
                    : new(step, StepState.Ready, "No hub linked"),
                3 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : new(step, setup.CurrentStep > 3 ? StepState.Done : StepState.Ready, DescribePolicy(policy)),
                4 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : idScope is not null ? new(step, StepState.Done, $"ID scope {idScope}") : new(step, StepState.Ready, "Waiting for the ID scope"),
                5 => setup.Certificates.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root) is { } root
                    ? new(step, StepState.Done, setup.Certificates.Count > 1 ? "Root and intermediate CA" : $"Root CA {ShortName(root.Subject)}")
                    : new(step, StepState.Ready, "No CA yet"),
                6 => RootOf(setup) is not { } uploadRoot ? new(step, StepState.Blocked, "Needs a CA")
                    : !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : uploadRoot.DpsCertificateName is { } uploadedName ? new(step, StepState.Done, $"Uploaded as {uploadedName}")
                    : new(step, StepState.Ready, "Not uploaded"),
                7 => RootOf(setup) is not { DpsCertificateName: not null } verifyRoot ? new(step, StepState.Blocked, "Needs the uploaded CA")
                    : verifyRoot.IsVerified ? new(step, StepState.Done, "Verified")
                    : new(step, StepState.Ready, "Unverified"),
                8 => RootOf(setup) is not { IsVerified: true } ? new(step, StepState.Blocked, "Needs the verified CA")
                    : setup.EnrollmentGroupId is { } groupId ? new(step, StepState.Done, $"Group {groupId}")
                    : new(step, StepState.Ready, "No enrollment group"),
                9 => setup.Certificates.Count == 0 ? new(step, StepState.Blocked, "Needs a CA")
                    : deviceCount > 0 ? new(step, StepState.Done, deviceCount == 1 ? "1 device certificate" : $"{deviceCount} device certificates")
                    : new(step, StepState.Ready, "No device certificates"),
                10 => !dpsLive ? new(step, StepState.Blocked, "Needs a DPS")
                    : setup.LastTestSummary is { } tested ? new(step, StepState.Done, tested)
                    : setup.EnrollmentGroupId is null ? new(step, StepState.Ready, "Enrollment group missing")
                    : new(step, StepState.Ready, "Register a test device"),
                _ => new(step, StepState.Unavailable, "Coming soon"),
            });
        }

        return new SetupView(setup.Id, setup.Name, setup.CurrentStep, setup.CreatedBy, setup.CreatedAt, setup.UpdatedBy, setup.UpdatedAt,
            setup.SubscriptionId, setup.ResourceGroup, setup.DpsName, dps?.Location ?? setup.Location, idScope,
            dps?.ServiceHost ?? setup.ServiceHost, dps?.DeviceHost ?? setup.DeviceHost, policy, hubs, dps, liveError, steps, canChange,
            [.. setup.Certificates.OrderBy(c => c.Kind).ThenBy(c => c.Id).Select(ToView)], setup.EnrollmentGroupId);
    }

    private static SetupCertificate? RootOf(DpsSetup setup) =>
        setup.Certificates.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? setup.Certificates.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);

    private static string ShortName(string subject) =>
        subject.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("CN=", StringComparison.OrdinalIgnoreCase))?[3..] ?? subject;

    public static string DescribePolicy(DpsAllocationPolicy? policy) => policy switch
    {
        DpsAllocationPolicy.Hashed => "Evenly weighted",
        DpsAllocationPolicy.GeoLatency => "Lowest latency",
        DpsAllocationPolicy.Static => "Static",
        _ => "Not set",
    };
}
