using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Automation;
using CheeseCave.Portal.Automation.Grants;
using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Expiry;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Setups.Rollover;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

/// <summary>The authorization matrix's service method table, checked by <see cref="AuthorizationMatrixTests"/>.</summary>
internal static class MethodRows
{
    /// <summary>
    /// Every public method that takes the caller (a <see cref="ClaimsPrincipal"/>) first, by "Type.Method". A
    /// change's <c>Refused</c> call uses real targets (it would change something if it were let through); its
    /// <c>Allowed</c> call aims at something missing or invalid, so an allowed role passes the check without changing
    /// anything. Reads use the same call for both.
    /// </summary>
    public static Dictionary<string, MethodRule> All { get; } = new(StringComparer.Ordinal)
    {
        // The authorization checks themselves (they are the rule, not an action).
        ["LocalAccountAuthorization.RequireAsync"] = MethodRule.NotAnAction,
        ["EntraCallerAuthorization.RequireAsync"] = MethodRule.NotAnAction,
        ["EntraSessionCheck.HasTokenCacheAccountAsync"] = MethodRule.NotAnAction, // rejects a session whose tokens are gone (Entra mode)
        ["PortalSignInManager.ValidateSecurityStampAsync"] = MethodRule.NotAnAction,

        // Plumbing: clients that act on the caller's behalf (Entra ID); only the services above use them, after their check.
        ["ProvisioningConnectionFactory.GetConnection"] = MethodRule.NotAnAction,
        ["ProvisioningConnectionFactory.CreateArmClient"] = MethodRule.NotAnAction,
        ["ProvisioningConnectionFactory.CreateDpsServiceClient"] = MethodRule.NotAnAction,
        ["ProvisioningConnectionFactory.CreateDeviceRegistrationClient"] = MethodRule.NotAnAction,

        // Runs a slice handler's call (its rows are below) apart from the circuit; that call makes the check and audits.
        ["SetupOperations.StartAsync"] = MethodRule.NotAnAction,

        // The setup pipeline: the check itself, and plumbing the handlers below call after (or as) their check. Approval
        // handlers (ApplyAsync) are not public: only ApprovalService.ApproveAsync reaches them (Approver, never the
        // requester, enough distinct approvers), and the change they run re-checks Operator like any wizard change.
        ["SetupPipeline.RequireAsync"] = MethodRule.NotAnAction,
        ["SetupPipeline.RequireChangeAsync"] = MethodRule.NotAnAction,
        ["SetupPipeline.ReadAsync"] = MethodRule.NotAnAction,
        ["SetupPipeline.RequestIfRequiredAsync"] = MethodRule.NotAnAction,
        ["SetupPipeline.DpsServiceAsync"] = MethodRule.NotAnAction,

        ["SetupOverviewHandler.ListAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Setups.ListAsync(c))),
        ["SetupOverviewHandler.GetAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Setups.GetAsync(c, w.SetupId))),
        ["DpsHandler.ListResourceGroupsAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Dps.ListResourceGroupsAsync(c))),
        ["DpsHandler.ListProvisioningServicesAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Dps.ListProvisioningServicesAsync(c, "cheesecave-rg"))),
        ["DpsHandler.CheckDpsNameAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Dps.CheckDpsNameAsync(c, "mx-free-name"))),
        ["HubsHandler.ListHubsAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Hubs.ListHubsAsync(c, "cheesecave-rg"))),
        ["HubsHandler.ListHubPoliciesAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Hubs.ListHubPoliciesAsync(c, "cheesecave-rg", "mxcave-hub"))),
        ["EnrollmentHandler.GetEnrollmentGroupAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Enrollment.GetEnrollmentGroupAsync(c, w.SetupId))),
        ["DeviceIssuanceHandler.ListDevicesAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.Devices.ListDevicesAsync(c, w.SetupId))),

        // Downloads: not changes, but refusals are audited (sensitive material).
        ["CaCertificateDownloads.DownloadCertificateAsync"] = MethodRule.Download(Access.Viewer, AuditActions.SetupCertificateDownloaded,
            (w, c) => w.Wizard(s => s.CaDownloads.DownloadCertificateAsync(c, w.SetupId, w.CertificateId, der: false))),
        ["DeviceDownloadsHandler.DownloadDeviceFileAsync"] = MethodRule.Download(Access.Operator, AuditActions.SetupDeviceFileDownloaded,
            (w, c) => w.Wizard(s => s.DeviceDownloads.DownloadDeviceFileAsync(c, w.SetupId, w.DeviceId, DeviceFileKind.Key))) with { Owner = Caller.Operator },
        ["DeviceDownloadsHandler.DownloadBatchAsync"] = MethodRule.Download(Access.Viewer, AuditActions.SetupDeviceFileDownloaded,
            (w, c) => w.Wizard(s => s.DeviceDownloads.DownloadBatchAsync(c, w.SetupId, w.BatchId))),

        ["SetupOverviewHandler.CreateAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupCreated,
            refused: (w, c) => w.Wizard(s => s.Setups.CreateAsync(c, "mx-refused-" + Guid.NewGuid().ToString("N")[..6])),
            allowed: (w, c) => w.Wizard(s => s.Setups.CreateAsync(c, "  "))),
        ["SetupOverviewHandler.SetCurrentStepAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupStepChanged,
            refused: (w, c) => w.Wizard(s => s.Setups.SetCurrentStepAsync(c, w.SetupId, 2)),
            allowed: (w, c) => w.Wizard(s => s.Setups.SetCurrentStepAsync(c, MatrixWorld.MissingId, 2))),
        ["DpsHandler.CreateDpsAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupDpsCreated,
            refused: (w, c) => w.Wizard(s => s.Dps.CreateDpsAsync(c, w.SetupId, "cheesecave-rg", "mx-refused-dps", "eastus")),
            allowed: (w, c) => w.Wizard(s => s.Dps.CreateDpsAsync(c, MatrixWorld.MissingId, "cheesecave-rg", "mx-refused-dps", "eastus"))),
        ["DpsHandler.SelectDpsAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupDpsSelected,
            refused: (w, c) => w.Wizard(s => s.Dps.SelectDpsAsync(c, w.SetupId, "cheesecave-rg", "mxother-dps")),
            allowed: (w, c) => w.Wizard(s => s.Dps.SelectDpsAsync(c, MatrixWorld.MissingId, "cheesecave-rg", "mxother-dps"))),
        ["HubsHandler.CreateHubAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupHubCreated,
            refused: (w, c) => w.Wizard(s => s.Hubs.CreateHubAsync(c, w.SetupId, "mx-refused-hub", "eastus")),
            allowed: (w, c) => w.Wizard(s => s.Hubs.CreateHubAsync(c, MatrixWorld.MissingId, "mx-refused-hub", "eastus"))),
        ["HubsHandler.LinkHubAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupHubLinked,
            refused: (w, c) => w.Wizard(s => s.Hubs.LinkHubAsync(c, w.SetupId, "mxother-hub", "iothubowner", 3, true)),
            allowed: (w, c) => w.Wizard(s => s.Hubs.LinkHubAsync(c, MatrixWorld.MissingId, "mxother-hub", "iothubowner", 3, true))),
        ["AllocationHandler.SetAllocationPolicyAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupAllocationPolicy,
            refused: (w, c) => w.Wizard(s => s.Allocation.SetAllocationPolicyAsync(c, w.SetupId, CheeseCave.Provisioning.Arm.DpsAllocationPolicy.GeoLatency)),
            allowed: (w, c) => w.Wizard(s => s.Allocation.SetAllocationPolicyAsync(c, MatrixWorld.MissingId, CheeseCave.Provisioning.Arm.DpsAllocationPolicy.GeoLatency))),
        ["CaGenerationHandler.GenerateCaAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupCaGenerated,
            refused: (w, c) => w.Wizard(s => s.CaGeneration.GenerateCaAsync(c, w.EmptySetupId, "Refused Root", null, ProfilePreset.Recommended)),
            allowed: (w, c) => w.Wizard(s => s.CaGeneration.GenerateCaAsync(c, MatrixWorld.MissingId, "Refused Root", null, ProfilePreset.Recommended))),
        ["UploadHandler.UploadCaAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupCaUploaded,
            refused: (w, c) => w.Wizard(s => s.Upload.UploadCaAsync(c, w.SetupId)),
            allowed: (w, c) => w.Wizard(s => s.Upload.UploadCaAsync(c, MatrixWorld.MissingId))),
        ["OneClickProofHandler.VerifyCaAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupCaVerified,
            refused: (w, c) => w.Wizard(s => s.OneClickProof.VerifyCaAsync(c, w.SetupId)),
            allowed: (w, c) => w.Wizard(s => s.OneClickProof.VerifyCaAsync(c, MatrixWorld.MissingId))),
        ["EnrollmentHandler.SaveEnrollmentGroupAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupEnrollmentGroupSaved,
            refused: (w, c) => w.Wizard(s => s.Enrollment.SaveEnrollmentGroupAsync(c, w.SetupId, w.RefusedEnrollmentForm())),
            allowed: (w, c) => w.Wizard(s => s.Enrollment.SaveEnrollmentGroupAsync(c, MatrixWorld.MissingId, w.RefusedEnrollmentForm()))),
        ["DeviceIssuanceHandler.IssueDevicesAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupDevicesIssued,
            refused: (w, c) => w.Wizard(s => s.Devices.IssueDevicesAsync(c, w.SetupId, ["mx-refused-001"])),
            allowed: (w, c) => w.Wizard(s => s.Devices.IssueDevicesAsync(c, MatrixWorld.MissingId, ["mx-refused-001"]))),
        ["ManualProofHandler.GetProofAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Wizard(s => s.ManualProof.GetProofAsync(c, w.SetupId))),
        ["VerificationDownloads.DownloadVerificationCertificateAsync"] = MethodRule.Download(Access.Viewer, CaImportAuditActions.VerificationDownloaded,
            (w, c) => w.Wizard(s => s.VerificationDownloads.DownloadVerificationCertificateAsync(c, w.SetupId, w.CertificateId, der: false))),
        ["CaImportHandler.ImportCaAsync"] = MethodRule.Change(Access.Operator, CaImportAuditActions.CaImported,
            refused: (w, c) => w.Wizard(s => s.CaImport.ImportCaAsync(c, w.EmptySetupId, new CaImportRequest(w.RootPem))),
            allowed: (w, c) => w.Wizard(s => s.CaImport.ImportCaAsync(c, MatrixWorld.MissingId, new CaImportRequest(w.RootPem)))),
        ["ManualProofHandler.GenerateVerificationCodeAsync"] = MethodRule.Change(Access.Operator, CaImportAuditActions.VerificationCodeGenerated,
            refused: (w, c) => w.Wizard(s => s.ManualProof.GenerateVerificationCodeAsync(c, w.SetupId)),
            allowed: (w, c) => w.Wizard(s => s.ManualProof.GenerateVerificationCodeAsync(c, MatrixWorld.MissingId))),
        ["ManualProofHandler.SubmitVerificationCertificateAsync"] = MethodRule.Change(Access.Operator, CaImportAuditActions.VerificationSubmitted,
            refused: (w, c) => w.Wizard(s => s.ManualProof.SubmitVerificationCertificateAsync(c, w.SetupId, new ManualProofRequest(w.RootPem))),
            allowed: (w, c) => w.Wizard(s => s.ManualProof.SubmitVerificationCertificateAsync(c, MatrixWorld.MissingId, new ManualProofRequest(w.RootPem)))),
        ["EnrollmentHandler.DeleteEnrollmentGroupAsync"] = MethodRule.Change(Access.Operator, ApprovalAuditActions.EnrollmentGroupDeleted,
            refused: (w, c) => w.Wizard(s => s.Enrollment.DeleteEnrollmentGroupAsync(c, w.SetupId)),
            allowed: (w, c) => w.Wizard(s => s.Enrollment.DeleteEnrollmentGroupAsync(c, MatrixWorld.MissingId))),
        ["KeyExportHandler.ExportPrivateKeyAsync"] = MethodRule.Change(Access.Operator, ApprovalAuditActions.KeyExported,
            refused: (w, c) => w.Wizard(s => s.KeyExports.ExportPrivateKeyAsync(c, w.SetupId, w.CertificateId)),
            allowed: (w, c) => w.Wizard(s => s.KeyExports.ExportPrivateKeyAsync(c, MatrixWorld.MissingId, w.CertificateId))),
        ["KeyExportHandler.DownloadKeyExportAsync"] = MethodRule.Download(Access.Operator, ApprovalAuditActions.KeyExportDownloaded,
            (w, c) => w.Wizard(s => s.KeyExports.DownloadKeyExportAsync(c, w.SetupId, "00000000000000000000000000000000", "root.key.pem"))),
        ["TestRegistrationHandler.TestRegistrationAsync"] = MethodRule.Change(Access.Operator, AuditActions.SetupTestRegistration,
            refused: (w, c) => w.Wizard(s => s.Testing.TestRegistrationAsync(c, w.SetupId, w.DeviceId, DeviceTransport.Https)),
            allowed: (w, c) => w.Wizard(s => s.Testing.TestRegistrationAsync(c, MatrixWorld.MissingId, null, DeviceTransport.Https))),
        ["HubDevicesHandler.ListDevicesAsync"] = MethodRule.Read(Access.Viewer, (w, c) => CheeseCave.Portal.Tests.Setups.HubDevices.HubDevicesMatrixCalls.Call(w, h => h.ListDevicesAsync(c, w.SetupId, "mxcave-hub"))),
        ["HubDevicesHandler.GetDeviceAsync"] = MethodRule.Read(Access.Viewer, (w, c) => CheeseCave.Portal.Tests.Setups.HubDevices.HubDevicesMatrixCalls.Call(w, h => h.GetDeviceAsync(c, w.SetupId, "mxcave-hub", w.RegistrationId))),

        ["RolloverReader.GetRolloverAsync"] = MethodRule.Read(Access.Viewer, (w, c) => RolloverMatrixCalls.Call<RolloverReader, PortalResult<RolloverOverview>>(w, r => r.GetRolloverAsync(c, w.SetupId))),
        ["RolloverStartHandler.StartRolloverAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Started,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverStartHandler, PortalResult<int>>(w, h => h.StartRolloverAsync(c, w.SetupId, new RolloverStartForm { RootSubject = "mxcave Root 2" })),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverStartHandler, PortalResult<int>>(w, h => h.StartRolloverAsync(c, MatrixWorld.MissingId, new RolloverStartForm { RootSubject = "mxcave Root 2" }))),
        ["RolloverCaSteps.UploadNewCaAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Uploaded,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverCaSteps, PortalResult<RolloverStage>>(w, h => h.UploadNewCaAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverCaSteps, PortalResult<RolloverStage>>(w, h => h.UploadNewCaAsync(c, MatrixWorld.MissingId))),
        ["RolloverCaSteps.ProveNewCaAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Verified,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverCaSteps, PortalResult<RolloverStage>>(w, h => h.ProveNewCaAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverCaSteps, PortalResult<RolloverStage>>(w, h => h.ProveNewCaAsync(c, MatrixWorld.MissingId))),
        ["RolloverGroupSteps.TrustNewCaAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Trusted,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverGroupSteps, PortalResult<RolloverStage>>(w, h => h.TrustNewCaAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverGroupSteps, PortalResult<RolloverStage>>(w, h => h.TrustNewCaAsync(c, MatrixWorld.MissingId))),
        ["RolloverGroupSteps.RetireOldCaAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Retired,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverGroupSteps, PortalResult<RolloverStage>>(w, h => h.RetireOldCaAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverGroupSteps, PortalResult<RolloverStage>>(w, h => h.RetireOldCaAsync(c, MatrixWorld.MissingId))),
        ["RolloverReissue.ReissueDevicesAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Reissued,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverReissue, PortalResult<RolloverReissueView>>(w, h => h.ReissueDevicesAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverReissue, PortalResult<RolloverReissueView>>(w, h => h.ReissueDevicesAsync(c, MatrixWorld.MissingId))),
        ["DeviceRenewalHandler.RenewDeviceAsync"] = MethodRule.Change(Access.Operator, LifecycleAuditActions.DeviceRenewed,
            refused: (w, c) => Lifecycle<DeviceRenewalHandler, DeviceRenewalView>(w, h => h.RenewDeviceAsync(c, w.DeviceId, null)),
            allowed: (w, c) => Lifecycle<DeviceRenewalHandler, DeviceRenewalView>(w, h => h.RenewDeviceAsync(c, MatrixWorld.MissingId, null))),
        ["DeviceRevocationHandler.RevokeDeviceAsync"] = MethodRule.Change(Access.Operator, LifecycleAuditActions.DeviceRevoked,
            refused: (w, c) => Lifecycle<DeviceRevocationHandler, DeviceRevocationView>(w, h => h.RevokeDeviceAsync(c, w.DeviceId, "matrix")),
            allowed: (w, c) => Lifecycle<DeviceRevocationHandler, DeviceRevocationView>(w, h => h.RevokeDeviceAsync(c, MatrixWorld.MissingId, "matrix"))),
        ["DeviceRevocationHandler.RestoreDeviceAsync"] = MethodRule.Change(Access.Operator, LifecycleAuditActions.DeviceRestored,
            refused: (w, c) => Lifecycle<DeviceRevocationHandler, DeviceRevocationView>(w, h => h.RestoreDeviceAsync(c, w.DeviceId)),
            allowed: (w, c) => Lifecycle<DeviceRevocationHandler, DeviceRevocationView>(w, h => h.RestoreDeviceAsync(c, MatrixWorld.MissingId))),
        ["CaRevocationHandler.RevokeCaAsync"] = MethodRule.Change(Access.Operator, LifecycleAuditActions.CaRevoked,
            refused: (w, c) => Lifecycle<CaRevocationHandler, CaRevocationView>(w, h => h.RevokeCaAsync(c, w.CertificateId)),
            allowed: (w, c) => Lifecycle<CaRevocationHandler, CaRevocationView>(w, h => h.RevokeCaAsync(c, MatrixWorld.MissingId))),
        ["CaRevocationHandler.ImpactAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Lifecycle<CaRevocationHandler, CaRevocationImpact>(w, h => h.ImpactAsync(c, MatrixWorld.MissingId))),
        ["DeviceCertificateReader.GetDeviceAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Lifecycle<DeviceCertificateReader, DeviceCertificateDetails>(w, h => h.GetDeviceAsync(c, w.DeviceId))),
        ["DeviceCertificateReader.ReadRegistrationAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Lifecycle<DeviceCertificateReader, DeviceRegistrationLive>(w, h => h.ReadRegistrationAsync(c, MatrixWorld.MissingId))),
        ["DeviceCertificateReader.GetCaAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Lifecycle<DeviceCertificateReader, CaCertificateDetails>(w, h => h.GetCaAsync(c, w.CertificateId))),
        ["RolloverReissue.ReissueLostBatchAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Reissued,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverReissue, PortalResult<RolloverReissueView>>(w, h => h.ReissueLostBatchAsync(c, w.SetupId, "mx-batch")),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverReissue, PortalResult<RolloverReissueView>>(w, h => h.ReissueLostBatchAsync(c, MatrixWorld.MissingId, "mx-batch"))),
        ["RolloverReissue.ConfirmReissuedElsewhereAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Reissued,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverReissue, PortalResult<RolloverReissueView>>(w, h => h.ConfirmReissuedElsewhereAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverReissue, PortalResult<RolloverReissueView>>(w, h => h.ConfirmReissuedElsewhereAsync(c, MatrixWorld.MissingId))),
        ["RolloverCancel.CancelRolloverAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Cancelled,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverCancel, PortalResult<RolloverStage>>(w, h => h.CancelRolloverAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverCancel, PortalResult<RolloverStage>>(w, h => h.CancelRolloverAsync(c, MatrixWorld.MissingId))),
        ["RolloverProof.GetVerificationCodeAsync"] = MethodRule.Read(Access.Viewer, (w, c) => RolloverMatrixCalls.Call<RolloverProof, PortalResult<RolloverProofView>>(w, h => h.GetVerificationCodeAsync(c, w.SetupId))),
        ["RolloverProof.GenerateVerificationCodeAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Verified,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverProof, PortalResult<RolloverProofView>>(w, h => h.GenerateVerificationCodeAsync(c, w.SetupId)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverProof, PortalResult<RolloverProofView>>(w, h => h.GenerateVerificationCodeAsync(c, MatrixWorld.MissingId))),
        ["RolloverProof.SubmitVerificationCertificateAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Verified,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverProof, PortalResult<RolloverStage>>(w, h => h.SubmitVerificationCertificateAsync(c, w.SetupId, [1, 2, 3])),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverProof, PortalResult<RolloverStage>>(w, h => h.SubmitVerificationCertificateAsync(c, MatrixWorld.MissingId, [1, 2, 3]))),
        ["RolloverImport.ImportNewCaAsync"] = MethodRule.Change(Access.Operator, RolloverAuditActions.Started,
            refused: (w, c) => RolloverMatrixCalls.Call<RolloverImport, PortalResult<RolloverImportResult>>(w, h => h.ImportNewCaAsync(c, w.SetupId, new([1, 2, 3]), RolloverGroupMode.SwapInGroup, null)),
            allowed: (w, c) => RolloverMatrixCalls.Call<RolloverImport, PortalResult<RolloverImportResult>>(w, h => h.ImportNewCaAsync(c, MatrixWorld.MissingId, new([1, 2, 3]), RolloverGroupMode.SwapInGroup, null))),

        ["UserAdministration.ListUsersAsync"] = MethodRule.Read(Access.Administrator, (w, c) => w.Users(u => u.ListUsersAsync(c))),
        ["UserAdministration.ListOpenInvitationsAsync"] = MethodRule.Read(Access.Administrator, (w, c) => w.Users(u => u.ListOpenInvitationsAsync(c))),
        ["UserAdministration.CreateInvitationAsync"] = MethodRule.Change(Access.Administrator, AuditActions.InvitationCreated,
            refused: (w, c) => w.Users(u => u.CreateInvitationAsync(c, "mx-invitee-" + Guid.NewGuid().ToString("N")[..6], PortalRoles.Administrator)),
            allowed: (w, c) => w.Users(u => u.CreateInvitationAsync(c, "mx-invitee", "NoSuchRole"))),
        ["UserAdministration.RevokeInvitationAsync"] = MethodRule.Change(Access.Administrator, AuditActions.InvitationRevoked,
            refused: (w, c) => w.Users(u => u.RevokeInvitationAsync(c, w.InvitationId)),
            allowed: (w, c) => w.Users(u => u.RevokeInvitationAsync(c, MatrixWorld.MissingId))),
        ["UserAdministration.ChangeRoleAsync"] = MethodRule.Change(Access.Administrator, AuditActions.UserRoleChanged,
            refused: (w, c) => w.Users(u => u.ChangeRoleAsync(c, w.TargetUserId, PortalRoles.Administrator)),
            allowed: (w, c) => w.Users(u => u.ChangeRoleAsync(c, "no-such-user", PortalRoles.Viewer))),
        ["UserAdministration.SetDisabledAsync"] = MethodRule.Change(Access.Administrator, AuditActions.UserDisabled,
            refused: (w, c) => w.Users(u => u.SetDisabledAsync(c, w.TargetUserId, disabled: true)),
            allowed: (w, c) => w.Users(u => u.SetDisabledAsync(c, "no-such-user", disabled: true))),

        ["ApprovalService.ListAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Approvals(a => a.ListAsync(c, ApprovalFilter.All))),
        ["ApprovalService.GetAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Approvals(a => a.GetAsync(c, w.RequestId))),
        // Answers an empty list (not an error) to callers without access: the world's pending request must show up.
        ["ApprovalService.ListForSetupAsync"] = MethodRule.Read(Access.Viewer,
            (w, c) => w.Approvals(async a => await a.ListForSetupAsync(c, w.EmptySetupId, ApprovalAction.CreateCa) is { Count: > 0 } list ? list : null)),
        // The navigation badge: a number only, zero for anyone without access (and for a Viewer with nothing open).
        ["ApprovalService.CountOpenAsync"] = MethodRule.NotAnAction,
        ["ApprovalService.ApproveAsync"] = MethodRule.Change(Access.Approver, ApprovalAuditActions.Approved,
            refused: (w, c) => w.Approvals(a => a.ApproveAsync(c, w.RequestId, "matrix")),
            allowed: (w, c) => w.Approvals(a => a.ApproveAsync(c, MatrixWorld.MissingId, "matrix"))),
        ["ApprovalService.RejectAsync"] = MethodRule.Change(Access.Approver, ApprovalAuditActions.Rejected,
            refused: (w, c) => w.Approvals(a => a.RejectAsync(c, w.RequestId, "matrix")),
            allowed: (w, c) => w.Approvals(a => a.RejectAsync(c, MatrixWorld.MissingId, "matrix"))),
        // Only the requester may cancel; every caller here is someone else, so the real request is always refused.
        ["ApprovalService.CancelAsync"] = MethodRule.Change(Access.Viewer, ApprovalAuditActions.Cancelled,
            refused: (w, c) => w.Approvals(a => a.CancelAsync(c, w.RequestId)),
            allowed: (w, c) => w.Approvals(a => a.CancelAsync(c, MatrixWorld.MissingId))),
        ["ApprovalService.RevealSecretAsync"] = MethodRule.Change(Access.Operator, ApprovalAuditActions.SecretRevealed,
            refused: (w, c) => w.Approvals(a => a.RevealSecretAsync(c, w.RequestId)),
            allowed: (w, c) => w.Approvals(a => a.RevealSecretAsync(c, MatrixWorld.MissingId))),

        ["InventoryHandler.QueryAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Scoped<InventoryHandler, PortalResult<InventoryPage>>(i => i.QueryAsync(c, new InventoryQuery(InventoryFilter.None)))),
        // Null means "not allowed" (like AuditTrail.AuthorizeAsync); the endpoint then answers 403.
        ["InventoryHandler.AuthorizeExportAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Scoped<InventoryHandler, CheeseCave.Portal.Auditing.Actor?>(i => i.AuthorizeExportAsync(c)),
            deniedAudit: AuditActions.CertificatesExported),
        ["ExpiryOverviewHandler.GetAsync"] = MethodRule.Read(Access.Viewer, (w, c) => w.Scoped<ExpiryOverviewHandler, PortalResult<ExpiryOverview>>(e => e.GetAsync(c))),
        ["DpsPlacements.FillAsync"] = MethodRule.NotAnAction, // plumbing: InventoryHandler.QueryAsync calls it after its check

        ["AuditTrail.SearchAsync"] = MethodRule.Read(Access.Approver, (w, c) => w.Audit(a => a.SearchAsync(c, AuditFilter.None, 0, 10)), deniedAudit: AuditTrailActions.Search),
        ["AuditTrail.AuthorizeAsync"] = MethodRule.Read(Access.Approver, (w, c) => w.Audit(a => a.AuthorizeAsync(c, AuditTrailActions.Export)), deniedAudit: AuditTrailActions.Export),
        // Automation: API tokens (any signed-in user, for their own tokens), issuance grants and CSR signing.
        ["TokenScopedAuthorization.RequireAsync"] = MethodRule.NotAnAction,
        ["ApiTokenService.CreateAsync"] = MethodRule.Change(Access.Viewer, AutomationAuditActions.TokenCreated,
            refused: (w, c) => Automation<ApiTokenService, PortalResult<CreatedApiToken>>(w, t => t.CreateAsync(c, new ApiTokenRequest("mx refused", ["read"], 30))),
            allowed: (w, c) => Automation<ApiTokenService, PortalResult<CreatedApiToken>>(w, t => t.CreateAsync(c, new ApiTokenRequest("", ["read"], 30)))),
        ["ApiTokenService.ListAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Automation<ApiTokenService, PortalResult<IReadOnlyList<ApiTokenView>>>(w, t => t.ListAsync(c))),
        ["ApiTokenService.RevokeAsync"] = MethodRule.Change(Access.Viewer, AutomationAuditActions.TokenRevoked,
            refused: (w, c) => Automation<ApiTokenService, PortalResult<ApiTokenView>>(w, t => t.RevokeAsync(c, MatrixWorld.MissingId)),
            allowed: (w, c) => Automation<ApiTokenService, PortalResult<ApiTokenView>>(w, t => t.RevokeAsync(c, MatrixWorld.MissingId))),
        ["GrantHandler.RequestAsync"] = MethodRule.Change(Access.Operator, AutomationAuditActions.GrantRequested,
            refused: (w, c) => Automation<GrantHandler, PortalResult<GrantView>>(w, g => g.RequestAsync(c, w.SetupId, new GrantRequest("mx refused", "mx-device-*", 10, 30))),
            allowed: (w, c) => Automation<GrantHandler, PortalResult<GrantView>>(w, g => g.RequestAsync(c, MatrixWorld.MissingId, new GrantRequest("mx refused", "mx-device-*", 10, 30)))),
        ["GrantHandler.ListAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Automation<GrantHandler, PortalResult<IReadOnlyList<GrantView>>>(w, g => g.ListAsync(c))),
        ["GrantHandler.GetAsync"] = MethodRule.Read(Access.Viewer, (w, c) => Automation<GrantHandler, PortalResult<GrantDetails>>(w, g => g.GetAsync(c, MatrixWorld.MissingId))),
        ["GrantHandler.RevokeAsync"] = MethodRule.Change(Access.Operator, AutomationAuditActions.GrantRevoked,
            refused: (w, c) => Automation<GrantHandler, PortalResult<GrantView>>(w, g => g.RevokeAsync(c, MatrixWorld.MissingId)),
            allowed: (w, c) => Automation<GrantHandler, PortalResult<GrantView>>(w, g => g.RevokeAsync(c, MatrixWorld.MissingId))),
        ["CsrSigningHandler.SignAsync"] = MethodRule.Change(Access.Operator, AutomationAuditActions.CsrSigned,
            refused: (w, c) => Automation<CsrSigningHandler, PortalResult<SignedCertificate>>(w, s => s.SignAsync(c, MatrixWorld.MissingId, "-----BEGIN CERTIFICATE REQUEST-----"u8.ToArray())),
            allowed: (w, c) => Automation<CsrSigningHandler, PortalResult<SignedCertificate>>(w, s => s.SignAsync(c, MatrixWorld.MissingId, "-----BEGIN CERTIFICATE REQUEST-----"u8.ToArray()))),
    };

    /// <summary>A renewal or revocation handler of a fresh scope (they are not wizard steps, so not in SetupSlices).</summary>
    private static async Task<object?> Lifecycle<THandler, T>(MatrixWorld world, Func<THandler, Task<PortalResult<T>>> call)
        where THandler : notnull
    {
        await using var scope = world.Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<THandler>());
    }

    private static async Task<object?> Automation<TService, TResult>(MatrixWorld world, Func<TService, Task<TResult>> call)
        where TService : notnull
    {
        await using var scope = world.Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<TService>());
    }
}
