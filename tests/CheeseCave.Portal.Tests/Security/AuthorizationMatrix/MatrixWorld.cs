using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

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

    /// <summary>A call on a scoped service of the portal (a feature handler outside the setup wizard's slices).</summary>
    public async Task<object?> Scoped<TService, T>(Func<TService, Task<T>> call)
        where TService : notnull
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public async Task<object?> Approvals<T>(Func<ApprovalService, Task<T>> call)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<ApprovalService>());
    }

    public Task<int> DeniedCountAsync(string actor, string? action = null) =>
        Factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Actor == actor && a.Outcome == AuditOutcomes.Denied && (action == null || a.Action == action)));

    /// <summary>
    /// Every row of every table except the audit log (which refusals append to) and the instance bookkeeping that
    /// changes on its own clock (heartbeats, the expiry check's lease), plus a hash of the emulator's state files (its
    /// journal is flushed before any change is acknowledged).
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
                list.CommandText = db.Database.IsNpgsql()
                    ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('AuditEntries', 'PortalInstances', 'ClusterLeases') ORDER BY table_name"
                    : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('AuditEntries', 'sqlite_sequence', 'PortalInstances', 'ClusterLeases') ORDER BY name";
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
