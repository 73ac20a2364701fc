using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Expiry;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Provisioning.DeviceRegistration;

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
        ["SetupOperations.Start"] = MethodRule.NotAnAction,

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
    };
}
