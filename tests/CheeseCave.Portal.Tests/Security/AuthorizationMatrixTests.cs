using System.Net;
using System.Reflection;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Targets;

using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Security;

/// <summary>
/// Issue #5 item 5: every kind of caller against every page, every endpoint and every service method that takes a
/// caller. Pages, endpoints and methods are discovered by reflection, so a new one fails
/// <see cref="Every_page_endpoint_and_service_method_has_a_row"/> until it gets one row in the tables below; the row
/// says the least role that may use it, and the other tests derive every caller's expected answer from that. Refused
/// changes must leave the database and the emulator's state as they were and write a Denied audit entry.
/// </summary>
public sealed class AuthorizationMatrixTests(MatrixWorld world, ITestOutputHelper output) : IClassFixture<MatrixWorld>
{
    // ------------------------------------------------------------------ the tables (one row per page, endpoint, method)

    /// <summary>Page routes (the @page templates) and the least access that opens them.</summary>
    private static readonly Dictionary<string, PageRule> Pages = new(StringComparer.Ordinal)
    {
        ["/"] = new(Access.Viewer),
        ["/account/login"] = new(Access.Public),
        ["/account/access-denied"] = new(Access.Public),
        ["/setup/{Token}"] = new(Access.Public),
        ["/invite/{Token}"] = new(Access.Public),
        ["/error"] = new(Access.Public),
        ["/not-found"] = new(Access.SignedIn),
        ["/admin/users"] = new(Access.Administrator),
        ["/audit"] = new(Access.Approver),
        ["/approvals"] = new(Access.Viewer),
        ["/approvals/{Id:int}"] = new(Access.Viewer),
        ["/setups"] = new(Access.Viewer),
        ["/setups/{Id:int}"] = new(Access.Viewer, AllowedStatus: HttpStatusCode.Redirect), // resumes at the current step
        ["/setups/{Id:int}/{Step}"] = new(Access.Viewer),
    };

    /// <summary>
    /// Other endpoints ("METHOD pattern" as routing shows it), each with sample requests and the least access each
    /// sample needs (one route can serve a certificate to Viewers and a key to Operators). Placeholders in samples:
    /// {setup}, {certificate}, {device}, {registration}, {batch}.
    /// </summary>
    private static readonly Dictionary<string, Sample[]> Endpoints = new(StringComparer.Ordinal)
    {
        ["* /healthz"] = [new("GET", "/healthz", Access.Public)],
        ["GET /emulator/trust-bundle.pem"] = [new("GET", "/emulator/trust-bundle.pem", Access.Public)],
        // Without an antiforgery token a signed-in caller reaches the endpoint and gets 400; nobody is signed out.
        ["POST /account/logout"] = [new("POST", "/account/logout", Access.SignedIn, AllowedStatus: HttpStatusCode.BadRequest)],
        ["GET /audit/export.csv"] = [new("GET", "/audit/export.csv", Access.Approver)],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}.pem"] = [new("GET", "/setups/{setup}/certificates/{certificate}.pem", Access.Viewer)],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}.cer"] = [new("GET", "/setups/{setup}/certificates/{certificate}.cer", Access.Viewer)],
        ["GET /setups/{setupId:int}/devices/{deviceId:int}/{fileName}"] =
        [
            new("GET", "/setups/{setup}/devices/{device}/{registration}.cert.pem", Access.Viewer),
            new("GET", "/setups/{setup}/devices/{device}/{registration}-chain.pem", Access.Viewer),
            new("GET", "/setups/{setup}/devices/{device}/{registration}.cer", Access.Viewer),
            // Device keys: Operator role, and only the user who issued the batch (the world's Operator caller).
            new("GET", "/setups/{setup}/devices/{device}/{registration}.key.pem", Access.Operator, Owner: Caller.Operator),
            new("GET", "/setups/{setup}/devices/{device}/{registration}.pfx", Access.Operator, Owner: Caller.Operator),
        ],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}/verification.pem"] = [new("GET", "/setups/{setup}/certificates/{certificate}/verification.pem", Access.Viewer)],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}/verification.cer"] = [new("GET", "/setups/{setup}/certificates/{certificate}/verification.cer", Access.Viewer)],
        // A form post: without an antiforgery token a Viewer gets past the policy and is stopped with 400 (the service
        // then re-checks Operator, which the method rows cover).
        ["POST /setups/{setupId:int}/ca/import"] = [new("POST", "/setups/{setup}/ca/import", Access.Viewer, AllowedStatus: HttpStatusCode.BadRequest)],
        // A key export waits for one download by the user it was made for; anyone else allowed in gets 410.
        ["GET /setups/{setupId:int}/key-exports/{downloadId:regex(^[0-9a-f]{{32}}$)}/{fileName}"] =
            [new("GET", "/setups/{setup}/key-exports/00000000000000000000000000000000/root.key.pem", Access.Operator, AllowedStatus: HttpStatusCode.Gone)],
        ["GET /setups/{setupId:int}/batches/{batchId:regex(^[0-9a-z-]{{1,64}}$)}.zip"] = [new("GET", "/setups/{setup}/batches/{batch}.zip", Access.Viewer)],
        // Framework endpoints: the circuit hub and its helpers need a signed-in user (the fallback policy).
        ["* /_blazor/negotiate"] = [new("POST", "/_blazor/negotiate?negotiateVersion=1", Access.SignedIn)],
        ["* /_blazor"] = [new("GET", "/_blazor?id=none", Access.SignedIn, AllowedStatus: HttpStatusCode.NotFound)],
        ["* /_blazor/disconnect/"] = [new("POST", "/_blazor/disconnect/", Access.SignedIn, AllowedStatus: HttpStatusCode.BadRequest)],
        ["* /_blazor/initializers/"] = [new("GET", "/_blazor/initializers/", Access.SignedIn)],
        ["GET /_framework/opaque-redirect"] = [new("GET", "/_framework/opaque-redirect", Access.SignedIn, AllowedStatus: HttpStatusCode.BadRequest)],
        // Unknown paths: the static-file fallback. Signed-in users get the not-found page.
        ["GET|HEAD {**path:file}"] = [new("GET", "/no-such-file.txt", Access.SignedIn, AllowedStatus: HttpStatusCode.NotFound)],
    };

    /// <summary>
    /// Every public method that takes the caller (a <see cref="ClaimsPrincipal"/>) first, by "Type.Method". A
    /// change's <c>Refused</c> call uses real targets (it would change something if it were let through); its
    /// <c>Allowed</c> call aims at something missing or invalid, so an allowed role passes the check without changing
    /// anything. Reads use the same call for both.
    /// </summary>
    private static readonly Dictionary<string, MethodRule> Methods = new(StringComparer.Ordinal)
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

        ["AuditTrail.SearchAsync"] = MethodRule.Read(Access.Approver, (w, c) => w.Audit(a => a.SearchAsync(c, AuditFilter.None, 0, 10)), deniedAudit: AuditTrailActions.Search),
        ["AuditTrail.AuthorizeAsync"] = MethodRule.Read(Access.Approver, (w, c) => w.Audit(a => a.AuthorizeAsync(c, AuditTrailActions.Export)), deniedAudit: AuditTrailActions.Export),
    };

    // ------------------------------------------------------------------ discovery

    private static IEnumerable<string> PageRoutes() =>
        typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => r.Template))
            .Distinct(StringComparer.Ordinal);

    private IEnumerable<string> EndpointKeys() =>
        world.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ComponentTypeMetadata>() is null && e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .Select(e => $"{(e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? string.Join("|", methods) : "*")} {e.RoutePattern.RawText}")
            .Distinct(StringComparer.Ordinal);

    private static IEnumerable<string> CallerMethods() =>
        typeof(Program).Assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic) && !typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsSpecialName)
            .Where(m => m.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(ClaimsPrincipal))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .Distinct(StringComparer.Ordinal);

    [Fact]
    public void Every_page_endpoint_and_service_method_has_a_row()
    {
        var problems = new List<string>();
        foreach (var route in PageRoutes().Where(r => !Pages.ContainsKey(r)))
        {
            problems.Add($"Page route \"{route}\" has no row in AuthorizationMatrixTests.Pages: add one with the least access that may open it.");
        }

        foreach (var route in Pages.Keys.Except(PageRoutes(), StringComparer.Ordinal))
        {
            problems.Add($"Pages has a row for \"{route}\", which no page declares any more: remove it.");
        }

        var endpoints = EndpointKeys().ToList();
        foreach (var key in endpoints.Where(k => !Endpoints.ContainsKey(k)))
        {
            problems.Add($"Endpoint \"{key}\" has no row in AuthorizationMatrixTests.Endpoints: add one with sample requests and the least access each needs.");
        }

        foreach (var key in Endpoints.Keys.Except(endpoints, StringComparer.Ordinal))
        {
            problems.Add($"Endpoints has a row for \"{key}\", which is not mapped any more: remove it.");
        }

        foreach (var method in CallerMethods().Where(m => !Methods.ContainsKey(m)))
        {
            problems.Add($"Method {method}(ClaimsPrincipal, ...) has no row in AuthorizationMatrixTests.Methods: add one with the least access it needs and a refused and an allowed call.");
        }

        foreach (var method in Methods.Keys.Except(CallerMethods(), StringComparer.Ordinal))
        {
            problems.Add($"Methods has a row for {method}, which no longer exists: remove it.");
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    // ------------------------------------------------------------------ pages and endpoints over HTTP

    public static TheoryData<Caller> Callers => [.. Enum.GetValues<Caller>()];

    /// <summary>
    /// As the portal behaves once the session check has run (at most a minute after a change): every request re-checks
    /// the cookie's security stamp, so a disabled or demoted user's old cookie no longer signs them in.
    /// </summary>
    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Every_page_and_endpoint_answers_each_caller_as_the_table_says(Caller caller)
    {
        world.CheckSessionOnEveryRequest(true);
        try
        {
            var client = await world.ClientAsync(caller);
            var failures = new List<string>();
            foreach (var route in PageRoutes().Order(StringComparer.Ordinal))
            {
                var path = world.FillRoute(route);
                await CheckAsync(client, caller, new Sample("GET", path, Pages[route].Least, Pages[route].AllowedStatus), isPage: true, failures);
            }

            foreach (var sample in Endpoints.Values.SelectMany(s => s))
            {
                await CheckAsync(client, caller, sample with { Path = world.Fill(sample.Path) }, isPage: false, failures);
            }

            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        }
        finally
        {
            world.CheckSessionOnEveryRequest(false);
        }
    }

    /// <summary>
    /// Within the minute before the session check, a disabled or demoted user's cookie still carries the old role.
    /// The endpoints' services re-check the database, so they refuse anything beyond what the user may do now.
    /// </summary>
    [Theory]
    [InlineData(Caller.Disabled)]
    [InlineData(Caller.Lowered)]
    public async Task Before_the_session_check_an_old_cookie_still_cannot_download_keys_or_export(Caller caller)
    {
        world.CheckSessionOnEveryRequest(false);
        var (client, name) = await world.StaleSessionAsync(caller);
        using (client)
        {
            var failures = new List<string>();
            foreach (var sample in Endpoints.Values.SelectMany(s => s).Where(s => s.Least >= Access.Operator))
            {
                await CheckAsync(client, caller, sample with { Path = world.Fill(sample.Path) }, isPage: false, failures, expectedOverride: Outcome.Denied, actorName: name);
            }

            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        }
    }

    /// <summary>
    /// Pages pass their gate on the old role until the session check; their data comes from the services, which
    /// refuse. Whatever a page shows then, it must render (no 500) and must not show the refused data.
    /// </summary>
    [Theory]
    [InlineData(Caller.Disabled)]
    [InlineData(Caller.Lowered)]
    public async Task Before_the_session_check_pages_render_for_an_old_cookie_without_the_refused_data(Caller caller)
    {
        world.CheckSessionOnEveryRequest(false);
        var (client, _) = await world.StaleSessionAsync(caller);
        using (client)
        {
            var failures = new List<string>();
            foreach (var route in PageRoutes().Order(StringComparer.Ordinal))
            {
                var path = world.FillRoute(route);
                using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
                var html = await response.Content.ReadAsStringAsync();
                output.WriteLine($"{caller,-13} GET  {path,-70} {(int)response.StatusCode} {Forms.RedirectPath(response)}");
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"{caller} GET {path}: {(int)response.StatusCode} with an old cookie; expected the page to render without the refused data.");
                }

                if (html.Contains("data-user-row=\"mx-target\"", StringComparison.Ordinal))
                {
                    failures.Add($"{caller} GET {path}: shows the user list to a {caller} user.");
                }
            }

            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        }
    }

    private async Task CheckAsync(HttpClient client, Caller caller, Sample sample, bool isPage, List<string> failures, Outcome? expectedOverride = null, string? actorName = null)
    {
        var expected = expectedOverride ?? Expected(caller, sample.Least, sample.Owner);
        // A rejected cookie makes the request anonymous, so its refusal is recorded under "anonymous".
        var actor = expected == Outcome.Login ? Actor.Anonymous.Name : actorName ?? MatrixWorld.ActorName(caller);
        var before = await world.SnapshotAsync();
        var deniedBefore = await world.DeniedCountAsync(actor);
        using var request = new HttpRequestMessage(new HttpMethod(sample.Method), new Uri(sample.Path, UriKind.Relative));
        using var response = await client.SendAsync(request);
        var actual = Classify(response, sample);
        if (actual == Outcome.Denied && response.StatusCode == HttpStatusCode.Forbidden
            && (await response.Content.ReadAsStringAsync()).StartsWith($"Only {MatrixWorld.ActorName(Caller.Operator)}, who issued this batch, can download its keys", StringComparison.Ordinal))
        {
            actual = Outcome.NotOwner;
        }

        output.WriteLine($"{caller,-13} {sample.Method,-4} {sample.Path,-70} {(int)response.StatusCode} {Forms.RedirectPath(response)} → {actual}");
        if (actual != expected)
        {
            failures.Add($"{caller} {sample.Method} {sample.Path}: expected {expected}, got {(int)response.StatusCode} {Forms.RedirectPath(response)} ({actual}).");
            return;
        }

        if (expected is Outcome.Login or Outcome.Denied or Outcome.NotOwner)
        {
            if (await world.SnapshotAsync() != before)
            {
                failures.Add($"{caller} {sample.Method} {sample.Path}: refused, but the database or the emulator changed.");
            }

            // Refusals by a role (403) are always audited; anonymous ones only for endpoints that need a role (direct
            // download and export calls), not for pages or the circuit's own endpoints (every first visit is one).
            var audited = expected is Outcome.Denied or Outcome.NotOwner || (!isPage && sample.Least >= Access.Viewer);
            if (audited && await world.DeniedCountAsync(actor) <= deniedBefore)
            {
                failures.Add($"{caller} {sample.Method} {sample.Path}: refused, but no Denied audit entry was written.");
            }
        }
    }

    /// <param name="owner">For another user's material (device keys): the only caller allowed; other allowed roles get NotOwner.</param>
    private static Outcome Expected(Caller caller, Access least, Caller? owner = null)
    {
        if (least == Access.Public)
        {
            return Outcome.Allowed;
        }

        if (caller is Caller.Anonymous or Caller.Disabled or Caller.Lowered)
        {
            return Outcome.Login;
        }

        var byRole = least == Access.SignedIn || (int)caller >= (int)least ? Outcome.Allowed : Outcome.Denied;
        return byRole == Outcome.Allowed && owner is { } only && caller != only ? Outcome.NotOwner : byRole;
    }

    private static Outcome Classify(HttpResponseMessage response, Sample sample)
    {
        var location = Forms.RedirectPath(response);
        return response.StatusCode switch
        {
            HttpStatusCode.Redirect when location.StartsWith("/account/login", StringComparison.Ordinal) => Outcome.Login,
            HttpStatusCode.Redirect when location.StartsWith("/account/access-denied", StringComparison.Ordinal) => Outcome.Denied,
            HttpStatusCode.Unauthorized => Outcome.Login,
            HttpStatusCode.Forbidden => Outcome.Denied,
            var status when status == (sample.AllowedStatus ?? HttpStatusCode.OK) => Outcome.Allowed,
            _ => Outcome.Unexpected,
        };
    }

    // ------------------------------------------------------------------ service methods

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Every_service_method_refuses_what_the_caller_may_not_do_and_changes_nothing(Caller caller)
    {
        var principal = await world.PrincipalAsync(caller);
        var actor = MatrixWorld.ActorName(caller);
        var failures = new List<string>();
        foreach (var (name, rule) in Methods.Where(m => m.Value.Kind != MethodKind.NotAnAction).OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var expected = Expected(caller, rule.Least, rule.Owner);
            var allowed = expected == Outcome.Allowed;
            var before = await world.SnapshotAsync();
            var deniedBefore = await world.DeniedCountAsync(actor, rule.DeniedAudit);
            bool denied;
            try
            {
                var result = await (allowed ? rule.Allowed : rule.Refused)(world, principal);
                denied = IsDenied(result);
                if (expected == Outcome.NotOwner)
                {
                    // Allowed by role, refused because the material is someone else's: a plain error, not a role denial.
                    var notYours = IsNotOwner(result);
                    output.WriteLine($"{caller,-13} {name,-50} {(notYours ? "not the owner's" : denied ? "refused by role" : "allowed")}");
                    if (!notYours)
                    {
                        failures.Add($"{caller} {name}: expected 'only {MatrixWorld.ActorName(rule.Owner!.Value)} may', was {(denied ? "refused by role" : "allowed")}.");
                        continue;
                    }

                    denied = true;
                }
            }
            catch (UnauthorizedAccessException)
            {
                denied = true;
            }

            output.WriteLine($"{caller,-13} {name,-50} {(denied ? "refused" : "allowed")}");
            if (denied == allowed)
            {
                failures.Add($"{caller} {name}: expected {(allowed ? "allowed" : "refused")}, was {(denied ? "refused" : "allowed")}.");
                continue;
            }

            if (!denied)
            {
                continue;
            }

            if (await world.SnapshotAsync() != before)
            {
                failures.Add($"{caller} {name}: refused, but the database or the emulator changed.");
            }

            if (rule.DeniedAudit is { } action && await world.DeniedCountAsync(actor, action) != deniedBefore + 1)
            {
                failures.Add($"{caller} {name}: refused, but no Denied '{action}' audit entry was written under '{actor}'.");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static bool IsNotOwner(object? result) =>
        result is PortalResult<CertificateFile> { Error: { Denied: false, Status: 403 } error }
        && error.Message.StartsWith($"Only {MatrixWorld.ActorName(Caller.Operator)}, who issued this batch, can download its keys", StringComparison.Ordinal);

    private static bool IsDenied(object? result) => result switch
    {
        null => true, // AuditTrail: null means "not allowed"
        AccountResult account => account.Denied,
        ValueTuple<AccountResult, CreatedInvitation?> created => created.Item1.Denied,
        _ when result.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(PortalResult<>) =>
            type.GetProperty(nameof(PortalResult<int>.Error))!.GetValue(result) is PortalError { Denied: true },
        _ => false,
    };
}

/// <summary>Who calls. The roles are in rising order so "at least" is a comparison.</summary>
public enum Caller
{
    Anonymous = 0,
    Viewer = 2,
    Operator = 3,
    Approver = 4,
    Administrator = 5,

    /// <summary>Signed in as an Administrator, then disabled by another administrator.</summary>
    Disabled = 10,

    /// <summary>Signed in as an Administrator, then demoted to Viewer (which renews the security stamp).</summary>
    Lowered = 11,
}

/// <summary>The least access a page, endpoint sample or method needs.</summary>
public enum Access
{
    Public = -1,
    SignedIn = 1,
    Viewer = 2,
    Operator = 3,
    Approver = 4,
    Administrator = 5,
}

public enum Outcome
{
    Allowed,
    Login,
    Denied,

    /// <summary>Allowed by role, refused because it is another user's (device keys: only who issued the batch).</summary>
    NotOwner,
    Unexpected,
}

public sealed record PageRule(Access Least, HttpStatusCode? AllowedStatus = null);

/// <param name="Owner">Set for another user's material: the only caller allowed; other allowed roles get <see cref="Outcome.NotOwner"/>.</param>
public sealed record Sample(string Method, string Path, Access Least, HttpStatusCode? AllowedStatus = null, Caller? Owner = null);

public enum MethodKind
{
    NotAnAction,
    Read,
    Download,
    Change,
}

public sealed record MethodRule(MethodKind Kind, Access Least, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> Refused, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> Allowed, string? DeniedAudit)
{
    /// <summary>As <see cref="Sample.Owner"/>: the only caller allowed; other allowed roles get a "not yours" error.</summary>
    public Caller? Owner { get; init; }

    public static MethodRule NotAnAction { get; } = new(MethodKind.NotAnAction, Access.Public, (_, _) => Task.FromResult<object?>(null), (_, _) => Task.FromResult<object?>(null), null);

    public static MethodRule Read(Access least, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> call, string? deniedAudit = null) => new(MethodKind.Read, least, call, call, deniedAudit);

    public static MethodRule Download(Access least, string auditAction, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> call) => new(MethodKind.Download, least, call, call, auditAction);

    public static MethodRule Change(Access least, string auditAction, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> refused, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> allowed) =>
        new(MethodKind.Change, least, refused, allowed, auditAction);
}

/// <summary>
/// One portal for the matrix with a complete setup (DPS, hub, verified CA, enrollment group, devices with keys in
/// their download window), a second setup without a CA, an open invitation, and one signed-in user per caller kind.
/// </summary>
public sealed class MatrixWorld : IAsyncLifetime
{
    public const int MissingId = 987_654;

    private readonly Dictionary<Caller, HttpClient> _clients = [];
    private readonly Dictionary<Caller, ClaimsPrincipal> _principals = [];

    public PortalFactory Factory { get; } = new();

    public int SetupId { get; private set; }

    public int EmptySetupId { get; private set; }

    public int CertificateId { get; private set; }

    /// <summary>The setup's root certificate (public), as a real import or verification payload.</summary>
    public byte[] RootPem { get; private set; } = [];

    public int DeviceId { get; private set; }

    public string RegistrationId { get; } = "mx-device-001";

    public string BatchId { get; private set; } = "";

    public int InvitationId { get; private set; }

    public string TargetUserId { get; private set; } = "";

    /// <summary>A pending request (to create a CA in the empty setup) by a user who is none of the callers.</summary>
    public int RequestId { get; private set; }

    private string PrimaryCa { get; set; } = "";

    public static string ActorName(Caller caller) => caller == Caller.Anonymous ? Actor.Anonymous.Name : "mx-" + caller.ToString().ToLowerInvariant();

    public async Task InitializeAsync()
    {
        foreach (var caller in new[] { Caller.Viewer, Caller.Operator, Caller.Approver, Caller.Administrator, Caller.Disabled, Caller.Lowered })
        {
            var role = caller is Caller.Disabled or Caller.Lowered ? PortalRoles.Administrator : caller.ToString();
            await Factory.CreateUserAsync(ActorName(caller), role);
        }

        TargetUserId = (await Factory.CreateUserAsync("mx-target", PortalRoles.Viewer)).Id;
        var op = await Factory.PrincipalForAsync(ActorName(Caller.Operator));
        var admin = await Factory.PrincipalForAsync(ActorName(Caller.Administrator));
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            SetupId = await SetupSteps.VerifiedSetupAsync(wizard, op, "mxcave");
            var view = (await wizard.Setups.GetAsync(op, SetupId)).Value!;
            CertificateId = view.Root!.Id;
            RootPem = (await wizard.CaDownloads.DownloadCertificateAsync(op, SetupId, CertificateId, der: false)).Value!.Content;
            PrimaryCa = view.Root.DpsCertificateName!;
            var saved = await wizard.Enrollment.SaveEnrollmentGroupAsync(op, SetupId, new EnrollmentGroupForm { GroupId = "mxcave-devices", PrimaryCa = PrimaryCa, Enabled = true });
            Assert.True(saved.Succeeded, saved.Error?.Message);
            var batch = (await wizard.Devices.IssueDevicesAsync(op, SetupId, [RegistrationId, "mx-device-002"])).Value!;
            BatchId = batch.BatchId;
            DeviceId = batch.Devices.Single(d => d.RegistrationId == RegistrationId).Id;
            EmptySetupId = (await wizard.Setups.CreateAsync(op, "mx-empty")).Value!.Id;

            // Approvals are off in this host (the gate would hold up the world above), so the request is stored as
            // the gate stores one; the matrix only checks who may see, decide, cancel or read secrets of it.
            var requester = await Factory.CreateUserAsync("mx-requester", PortalRoles.Operator);
            var now = DateTimeOffset.UtcNow;
            var request = new ApprovalRequest
            {
                Action = ApprovalAction.CreateCa,
                SetupId = EmptySetupId,
                Title = "Create root CA \"Matrix Root\" for mx-empty",
                PayloadJson = new CreateCaPayload("Matrix Root", null, ProfilePreset.Recommended).ToJson(),
                RequestedById = requester.Id,
                RequestedBy = requester.UserName!,
                RequestedAt = now,
                ExpiresAt = now.AddDays(30),
            };
            RequestId = await Factory.WithDbAsync(async db =>
            {
                db.ApprovalRequests.Add(request);
                await db.SaveChangesAsync();
                return request.Id;
            });

            // Another DPS and hub exist, so refused "pick" and "link" calls would change something if let through.
            var other = (await wizard.Setups.CreateAsync(op, "mxother")).Value!.Id;
            Assert.True((await wizard.Dps.CreateDpsAsync(op, other, "cheesecave-rg", "mxother-dps", "eastus")).Succeeded);
            Assert.True((await wizard.Hubs.CreateHubAsync(op, other, "mxother-hub", "eastus")).Succeeded);
        }

        var administration = Factory.Services.GetRequiredService<UserAdministration>();
        var (created, _) = await administration.CreateInvitationAsync(admin, "mx-open-invitation", PortalRoles.Operator);
        Assert.True(created.Succeeded, created.ErrorText);
        InvitationId = (await administration.ListOpenInvitationsAsync(admin)).Single(i => i.UserName == "mx-open-invitation").Id;

        // Sessions first (cookies and principals as the users had them), then disable and demote two of them.
        _clients[Caller.Anonymous] = Factory.CreatePortalClient();
        _principals[Caller.Anonymous] = new ClaimsPrincipal(new ClaimsIdentity());
        foreach (var caller in Enum.GetValues<Caller>().Where(c => c != Caller.Anonymous))
        {
            _clients[caller] = await Factory.SignedInClientAsync(ActorName(caller));
            _principals[caller] = await Factory.PrincipalForAsync(ActorName(caller));
        }

        var disabledId = (await Factory.WithDbAsync(db => db.Users.SingleAsync(u => u.UserName == ActorName(Caller.Disabled)))).Id;
        Assert.True((await administration.SetDisabledAsync(admin, disabledId, disabled: true)).Succeeded);
        var loweredId = (await Factory.WithDbAsync(db => db.Users.SingleAsync(u => u.UserName == ActorName(Caller.Lowered)))).Id;
        Assert.True((await administration.ChangeRoleAsync(admin, loweredId, PortalRoles.Viewer)).Succeeded);
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        await Factory.DisposeAsync();
    }

    /// <summary>A fresh Administrator signed in over HTTP, then disabled or demoted to Viewer: the cookie still carries the old role.</summary>
    public async Task<(HttpClient Client, string UserName)> StaleSessionAsync(Caller kind)
    {
        var name = $"mx-stale-{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..6]}";
        var user = await Factory.CreateUserAsync(name, PortalRoles.Administrator);
        var client = await Factory.SignedInClientAsync(name);
        var admin = await Factory.PrincipalForAsync(ActorName(Caller.Administrator));
        var administration = Factory.Services.GetRequiredService<UserAdministration>();
        var changed = kind == Caller.Disabled
            ? await administration.SetDisabledAsync(admin, user.Id, disabled: true)
            : await administration.ChangeRoleAsync(admin, user.Id, PortalRoles.Viewer);
        Assert.True(changed.Succeeded, changed.ErrorText);
        return (client, name);
    }

    public Task<HttpClient> ClientAsync(Caller caller) => Task.FromResult(_clients[caller]);

    public Task<ClaimsPrincipal> PrincipalAsync(Caller caller) => Task.FromResult(_principals[caller]);

    /// <summary>Makes every request re-check the cookie's security stamp (the portal's own interval is a minute).</summary>
    public void CheckSessionOnEveryRequest(bool on) =>
        Factory.Services.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value.ValidationInterval = on ? TimeSpan.Zero : TimeSpan.FromMinutes(1);

    public string Fill(string path) => path
        .Replace("{setup}", SetupId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{certificate}", CertificateId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{device}", DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{registration}", RegistrationId, StringComparison.Ordinal)
        .Replace("{batch}", BatchId, StringComparison.Ordinal);

    /// <summary>A page route with its parameters filled in: this world's setup, its devices step, a token that is not valid.</summary>
    public string FillRoute(string route) => route
        .Replace("{Id:int}", SetupId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{Step}", "devices", StringComparison.Ordinal)
        .Replace("{Token}", "not-a-real-token", StringComparison.Ordinal);

    public EnrollmentGroupForm RefusedEnrollmentForm() => new() { GroupId = "mxcave-refused", PrimaryCa = PrimaryCa, Enabled = true, TagsJson = """{ "refused": true }""" };

    public async Task<object?> Wizard<T>(Func<SetupSlices, Task<T>> call)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        return await call(wizard);
    }

    public async Task<object?> Users<T>(Func<UserAdministration, Task<T>> call) => await call(Factory.Services.GetRequiredService<UserAdministration>());

    public async Task<object?> Audit<T>(Func<AuditTrail, Task<T>> call) => await call(Factory.Services.GetRequiredService<AuditTrail>());

    public async Task<object?> Approvals<T>(Func<ApprovalService, Task<T>> call)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<ApprovalService>());
    }

    public Task<int> DeniedCountAsync(string actor, string? action = null) =>
        Factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Actor == actor && a.Outcome == AuditOutcomes.Denied && (action == null || a.Action == action)));

    /// <summary>
    /// Every row of every table except the audit log (which refusals append to), plus a hash of the emulator's state
    /// files (its journal is flushed before any change is acknowledged).
    /// </summary>
    public async Task<string> SnapshotAsync()
    {
        var text = new StringBuilder();
        await Factory.WithDbAsync(async db =>
        {
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            var tables = new List<string>();
            await using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('AuditEntries', 'sqlite_sequence') ORDER BY name";
                await using var reader = await list.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    tables.Add(reader.GetString(0));
                }
            }

            foreach (var table in tables)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT * FROM \"{table}\" ORDER BY 1";
                await using var reader = await command.ExecuteReaderAsync();
                text.Append('#').Append(table).Append('\n');
                while (await reader.ReadAsync())
                {
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        text.Append(reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append('|');
                    }

                    text.Append('\n');
                }
            }

            return 0;
        });

        var emulator = Path.Combine(Factory.DataDirectory, "emulator");
        foreach (var file in Directory.EnumerateFiles(emulator, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            text.Append(Path.GetRelativePath(emulator, file)).Append('=').Append(Convert.ToHexString(await SHA256.HashDataAsync(stream))).Append('\n');
        }

        return text.ToString();
    }
}
