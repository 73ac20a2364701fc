using System.Globalization;
using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Targets;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>
/// The one path every change to a setup takes: authorize (the caller's role re-checked in the database, whatever
/// the page shows) → load the setup → approval gate → run the step's logic → map <see cref="ProvisioningException"/>
/// and <see cref="PkiException"/> to a <see cref="PortalError"/> with what to do → audit (succeeded, failed or denied)
/// → save. Reads go through <see cref="ReadAsync{T}"/> (Viewer). Handlers hold only their step's logic.
/// </summary>
public sealed class SetupPipeline(
    ICallerAuthorization authorization,
    IDbContextFactory<PortalDbContext> contexts,
    ProvisioningConnectionFactory provisioning,
    AuditLog audit,
    ApprovalGate approvals,
    TimeProvider time)
{
    public IDbContextFactory<PortalDbContext> Contexts => contexts;

    public ProvisioningConnectionFactory Provisioning => provisioning;

    public AuditLog Audit => audit;

    public ApprovalGate Approvals => approvals;

    public TimeProvider Time => time;

    /// <summary>How often a long-running ARM create is polled for the progress line.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(750);

    public async Task<PortalResult<T>> RunAsync<T>(SetupChange<T> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var span = PortalActivity.StartAction(change.AuditAction, change.SetupId); // the audit entries below carry its trace id
        var actor = await RequireChangeAsync(change.Caller, change.AuditAction, $"setup {change.SetupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<T>(PortalError.NotAllowed(change.What));
        }

        if (change is { Request: { } request, Grant: null } && request.Actions.Any(approvals.Requires))
        {
            return await RecordRequestAsync<T>(actor, change.SetupId, request, change.AuditAction, change.What, cancellationToken).ConfigureAwait(false);
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == change.SetupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<T>(PortalError.NotFound);
        }

        var detail = Noted(change.Detail, change.Grant);
        PortalResult<T> result;
        try
        {
            result = await change.Run(setup, provisioning.CreateArmClient(change.Caller), db).ConfigureAwait(false);
        }
        catch (ProvisioningException ex)
        {
            var error = PortalError.From(ex);
            await audit.WriteAsync(actor, change.AuditAction, Target(setup), AuditOutcomes.Failed, Trim($"{detail}: {error.ServiceCode ?? error.Status?.ToString(CultureInfo.InvariantCulture) ?? "error"}"), cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<T>(error);
        }
        catch (PkiException ex)
        {
            var error = new PortalError(ex.Message, "Check the certificate and its stored key; if the key is unreadable, the portal's keys/ folder may have been lost or replaced.");
            await audit.WriteAsync(actor, change.AuditAction, Target(setup), AuditOutcomes.Failed, Trim($"{detail}: {ex.Message}"), cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<T>(error);
        }

        if (result.Error is not null)
        {
            await audit.WriteAsync(actor, change.AuditAction, Target(setup), AuditOutcomes.Failed, Trim($"{detail}: {result.Error.Message}"), cancellationToken).ConfigureAwait(false);
            return result;
        }

        setup.UpdatedBy = actor.Name;
        setup.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        if (change.SucceededDetail?.Invoke() is { Length: > 0 } learned)
        {
            detail = $"{detail}; {learned}";
        }

        await audit.WriteAsync(actor, change.AuditAction, Target(setup), AuditOutcomes.Succeeded, Trim(detail), cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The gate alone, for changes that do not load the setup themselves (a key export): null when the action may go
    /// ahead now; otherwise the caller's role is checked and the request recorded (or refused, with why).
    /// </summary>
    public async Task<PortalResult<T>?> RequestIfRequiredAsync<T>(ClaimsPrincipal caller, int setupId, SetupPayload request, string auditAction, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Actions.Any(approvals.Requires))
        {
            return null;
        }

        var actor = await RequireChangeAsync(caller, auditAction, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        return actor is null
            ? PortalResult.Fail<T>(PortalError.NotAllowed(what))
            : await RecordRequestAsync<T>(actor, setupId, request, auditAction, what, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The gate for a change whose caller is already authorized: the request recorded with its plain-terms summary,
    /// and a "waiting for approval" result; or a clear error when asking would be pointless (no setup, already done,
    /// bad input, one already waiting).
    /// </summary>
    public async Task<PortalResult<T>> RecordRequestAsync<T>(Actor actor, int setupId, SetupPayload request, string auditAction, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().Include(s => s.Certificates).FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<T>(PortalError.NotFound);
        }

        if (request.OnePendingPerSetup && await approvals.FindPendingAsync(setupId, request.Action, cancellationToken).ConfigureAwait(false) is { } open)
        {
            return PortalResult.Fail<T>(new PortalError($"A request to {what} is already waiting for approval (#{open.RequestId}: {open.Title}).",
                "Wait for it to be decided, or cancel it on its page and ask again."));
        }

        var plan = request.Plan(setup);
        if (plan.Problem is { } problem)
        {
            await audit.WriteAsync(actor, auditAction, Target(setup), AuditOutcomes.Failed, Trim($"approval request refused: {problem.Message}"), cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<T>(problem);
        }

        return PortalResult.Waiting<T>(await approvals.RecordAsync(actor, setupId, plan.Pinned!, plan.Summary!, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A read of Azure for a Viewer (lists, name checks); errors come back as results.</summary>
    public async Task<PortalResult<T>> ReadAsync<T>(ClaimsPrincipal caller, Func<ArmProvisioningClient, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        using var span = PortalActivity.StartAction("setup.read");
        if (await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<T>(PortalError.NotAllowed("read setups"));
        }

        try
        {
            return PortalResult.Ok<T>(await read(provisioning.CreateArmClient(caller)).ConfigureAwait(false));
        }
        catch (ProvisioningException ex)
        {
            return PortalResult.Fail<T>(PortalError.From(ex));
        }
    }

    /// <summary>The caller when allowed to act with at least <paramref name="role"/> right now (see <see cref="ICallerAuthorization"/>); otherwise null.</summary>
    public Task<Actor?> RequireAsync(ClaimsPrincipal caller, string role, CancellationToken cancellationToken) =>
        authorization.RequireAsync(caller, role, cancellationToken);

    /// <summary>The caller as an actor when allowed to change setups; otherwise null, and the refusal is audited.</summary>
    public async Task<Actor?> RequireChangeAsync(ClaimsPrincipal caller, string action, string target, CancellationToken cancellationToken)
    {
        var actor = await RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), action, target, AuditOutcomes.Denied, "Operator role required", cancellationToken).ConfigureAwait(false);
        }

        return actor;
    }

    /// <summary>A DPS service API client for the setup's DPS (its connection string is read and used on the server only).</summary>
    public async Task<DpsServiceClient> DpsServiceAsync(ClaimsPrincipal caller, ArmProvisioningClient arm, string group, string dpsName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arm);
        var connectionString = await arm.GetProvisioningServiceConnectionStringAsync(group, dpsName, cancellationToken: cancellationToken).ConfigureAwait(false);
        return provisioning.CreateDpsServiceClient(caller, connectionString);
    }

    /// <summary>Keeps what the wizard shows of a DPS with the setup.</summary>
    public static void Apply(DpsSetup setup, ProvisioningServiceInfo dps)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(dps);
        setup.ResourceGroup = dps.ResourceGroup;
        setup.DpsName = dps.Name;
        setup.Location = dps.Location;
        setup.IdScope = dps.IdScope;
        setup.ServiceHost = dps.ServiceHost;
        setup.DeviceHost = dps.DeviceHost;
        setup.AllocationPolicy = dps.AllocationPolicy?.ToString();
        setup.LinkedHubs = SetupNames.SummarizeHubs(dps.LinkedHubs);
    }

    public static string Target(DpsSetup setup) => $"setup {setup.Id} \"{setup.Name}\"";

    public static string Trim(string text) => text.Length > 500 ? text[..500] : text;

    /// <summary>An audit detail with the approval's attribution, when applying one.</summary>
    public static string Noted(string detail, ApprovalGrant? grant) => grant is null ? detail : $"{detail}; {grant.AuditNote}";
}
