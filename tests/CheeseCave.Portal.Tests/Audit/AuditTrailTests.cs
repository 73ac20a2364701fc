using System.Net;
using System.Text;
using Bunit;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Components.Pages.Audit;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Audit;

/// <summary>The audit trail: search and paging in the database, the /audit page, and the CSV export over HTTP.</summary>
public sealed class AuditTrailTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private AuditLog Log => factory.Services.GetRequiredService<AuditLog>();

    private AuditTrail Trail => factory.Services.GetRequiredService<AuditTrail>();

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private async Task<System.Security.Claims.ClaimsPrincipal> UserAsync(string role)
    {
        var name = Unique("audit-" + role.ToLowerInvariant());
        await factory.CreateUserAsync(name, role);
        return await factory.PrincipalForAsync(name);
    }

    [Fact]
    public void The_action_filter_offers_every_action_the_portal_writes_including_approvals_imports_and_key_release()
    {
        Assert.Contains(ApprovalAuditActions.Approved, AuditTrail.KnownActions);
        Assert.Contains(ApprovalAuditActions.KeyExported, AuditTrail.KnownActions);
        Assert.Contains(CheeseCave.Portal.Setups.CaImportAuditActions.CaImported, AuditTrail.KnownActions);
        Assert.Contains(CheeseCave.Portal.Setups.CaImportAuditActions.VerificationSubmitted, AuditTrail.KnownActions);
        Assert.Contains(ApprovalAuditActions.StoredKeyDeleted, AuditTrail.KnownActions);
        Assert.Contains(AuditActions.SetupCaGenerated, AuditTrail.KnownActions);
    }

    [Fact]
    public async Task Search_filters_in_the_database_pages_newest_first_and_counts_all_matches()
    {
        var approver = await UserAsync(PortalRoles.Approver);
        var action = Unique("test.search");
        for (var i = 0; i < 7; i++)
        {
            await Log.WriteAsync(new Actor(null, i % 2 == 0 ? "even-actor" : "odd-actor"), action, $"target {i}", i == 3 ? AuditOutcomes.Denied : AuditOutcomes.Succeeded, $"detail 100%_{i}");
        }

        var first = await Trail.SearchAsync(approver, new AuditFilter { Action = action }, 0, 3);
        Assert.NotNull(first);
        Assert.Equal(7, first.TotalCount);
        Assert.Equal(["target 6", "target 5", "target 4"], first.Items.Select(r => r.Target));
        var last = await Trail.SearchAsync(approver, new AuditFilter { Action = action }, 6, 3);
        Assert.Equal(["target 0"], last!.Items.Select(r => r.Target));

        Assert.Equal(4, (await Trail.SearchAsync(approver, new AuditFilter { Action = action, Actor = "EVEN-ACTOR" }, 0, 50))!.TotalCount);
        var denied = await Trail.SearchAsync(approver, new AuditFilter { Action = action, Outcome = AuditOutcomes.Denied }, 0, 50);
        Assert.Equal("target 3", Assert.Single(denied!.Items).Target);

        // Free text covers actor, action, target and detail; % and _ are literal characters, not wildcards.
        Assert.Equal(7, (await Trail.SearchAsync(approver, new AuditFilter { Text = action[5..] }, 0, 50))!.TotalCount);
        Assert.Single((await Trail.SearchAsync(approver, new AuditFilter { Action = action, Text = "100%_5" }, 0, 50))!.Items);
        Assert.Empty((await Trail.SearchAsync(approver, new AuditFilter { Action = action, Text = "100%%" }, 0, 50))!.Items);
        Assert.Equal(7, (await Trail.SearchAsync(approver, new AuditFilter { Action = action[..10] + "*", Text = action }, 0, 50))!.TotalCount);

        var one = first.Items[0];
        Assert.Single((await Trail.SearchAsync(approver, new AuditFilter { CorrelationId = one.CorrelationId }, 0, 50))!.Items, r => r.Id == one.Id);
        Assert.Equal(7, (await Trail.SearchAsync(approver, new AuditFilter { Action = action, From = one.At.AddMinutes(-5), To = one.At.AddMinutes(5) }, 0, 50))!.TotalCount);
        Assert.Equal(0, (await Trail.SearchAsync(approver, new AuditFilter { Action = action, From = one.At.AddMinutes(1) }, 0, 50))!.TotalCount);
        Assert.Equal(0, (await Trail.SearchAsync(approver, new AuditFilter { Action = action, To = one.At.AddMinutes(-10) }, 0, 50))!.TotalCount);

        // A page is never larger than the maximum, whatever is asked.
        Assert.True((await Trail.SearchAsync(approver, AuditFilter.None, 0, 100_000))!.Items.Count <= AuditTrail.MaxPageSize);
    }

    [Theory]
    [InlineData(PortalRoles.Viewer)]
    [InlineData(PortalRoles.Operator)]
    public async Task Viewers_and_operators_cannot_search_and_the_refusal_is_audited(string role)
    {
        var caller = await UserAsync(role);
        Assert.Null(await Trail.SearchAsync(caller, AuditFilter.None, 0, 10));

        var name = caller.Identity!.Name;
        var entries = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == name).ToListAsync());
        Assert.Contains(entries, a => a.Action == AuditTrailActions.Search && a.Outcome == AuditOutcomes.Denied);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"cheese\"", "\"say \"\"cheese\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("=HYPERLINK(\"http://evil\")", "\"'=HYPERLINK(\"\"http://evil\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "\"'\tx\"")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Csv_cells_are_quoted_per_rfc_4180_and_formulas_are_defused(string? value, string expected) =>
        Assert.Equal(expected, AuditCsv.Cell(value));

    [Fact]
    public void Csv_lines_end_with_crlf_and_timestamps_are_utc_iso_8601()
    {
        var at = new DateTimeOffset(2026, 11, 30, 15, 4, 5, TimeSpan.FromHours(2)).AddTicks(1234567);
        var line = AuditCsv.Line(new AuditRecord(42, at, "ada", "id-1", "user.disable", "bob", "succeeded", "a, b", "abc"));
        Assert.Equal("42,2026-11-30T13:04:05.1234567Z,ada,id-1,user.disable,bob,succeeded,\"a, b\",abc\r\n", line);
    }

    [Fact]
    public async Task An_approver_exports_the_filtered_log_as_a_streamed_csv_and_the_export_is_audited()
    {
        var name = Unique("export-approver");
        await factory.CreateUserAsync(name, PortalRoles.Approver);
        var action = Unique("test.export");
        await Log.WriteAsync(new Actor(null, "=cmd|' /C calc'!A0"), action, "t,1", AuditOutcomes.Succeeded, "line one\r\nline \"two\"");
        await Log.WriteAsync(new Actor(null, "plain"), action, "t2", AuditOutcomes.Failed, "→ ünïcode");
        await Log.WriteAsync(new Actor(null, "other"), Unique("test.other"), "x", AuditOutcomes.Succeeded);

        using var client = await factory.SignedInClientAsync(name);
        using var response = await client.GetAsync(new Uri($"/audit/export.csv?action={action}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("attachment; filename=\"cheesecave-audit-", response.Content.Headers.ContentDisposition?.ToString(), StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        var csv = Encoding.UTF8.GetString(bytes[3..]);

        var lines = csv.Split("\r\n");
        Assert.Equal("id,at_utc,actor,actor_id,action,target,outcome,detail,correlation_id", lines[0]);
        Assert.Equal("", lines[^1]); // every record ends with CRLF
        Assert.Contains($",plain,,{action},t2,failed,→ ünïcode,", csv, StringComparison.Ordinal); // newest first
        Assert.Contains($",'=cmd|' /C calc'!A0,,{action},\"t,1\",succeeded,\"line one\r\nline \"\"two\"\"\",", csv, StringComparison.Ordinal);
        Assert.True(csv.IndexOf("plain", StringComparison.Ordinal) < csv.IndexOf("calc", StringComparison.Ordinal));
        Assert.DoesNotContain("test.other", csv, StringComparison.Ordinal);
        Assert.Matches(@"^\d+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z,plain,", lines[1]);

        var export = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == name && a.Action == AuditTrailActions.Export).ToListAsync());
        var entry = Assert.Single(export);
        Assert.Equal(AuditOutcomes.Succeeded, entry.Outcome);
        Assert.Equal($"2 row(s) of action={action}", entry.Detail);
        Assert.Matches("^[0-9a-f]{32}$", entry.CorrelationId!);
    }

    [Theory]
    [InlineData("from=yesterday", "'from' is not a date and time")]
    [InlineData("to=2026-13-01", "'to' is not a date and time")]
    [InlineData("from=2026-12-01&to=2026-11-30", "'to' must be later than 'from'")]
    [InlineData("outcome=maybe", "'outcome' is one of: succeeded, failed, denied")]
    public async Task A_bad_export_filter_is_a_400_in_plain_words(string query, string message)
    {
        var name = Unique("export-bad");
        await factory.CreateUserAsync(name, PortalRoles.Administrator);
        using var client = await factory.SignedInClientAsync(name);
        using var response = await client.GetAsync(new Uri("/audit/export.csv?" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PortalRoles.Viewer)]
    [InlineData(PortalRoles.Operator)]
    public async Task Viewers_and_operators_are_refused_the_page_and_the_export_and_the_refusals_are_audited(string role)
    {
        var name = Unique("audit-refused");
        await factory.CreateUserAsync(name, role);
        using var client = await factory.SignedInClientAsync(name);
        foreach (var path in new[] { "/audit", "/audit/export.csv" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/access-denied", Forms.RedirectPath(response), StringComparison.Ordinal);
        }

        var denied = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == name && a.Action == AuditTrailActions.AccessDenied).ToListAsync());
        Assert.Contains(denied, a => a.Target == "GET /audit" && a.Outcome == AuditOutcomes.Denied && a.Detail!.Contains(PortalPolicies.RequireApprover, StringComparison.Ordinal));
        Assert.Contains(denied, a => a.Target == "GET /audit/export.csv" && a.Outcome == AuditOutcomes.Denied);
        Assert.DoesNotContain(await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == name).ToListAsync()), a => a.Action == AuditTrailActions.Export);
    }

    [Fact]
    public async Task An_anonymous_export_is_sent_to_sign_in_and_audited_but_anonymous_page_visits_are_not()
    {
        using var client = factory.CreatePortalClient();
        var before = await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == AuditTrailActions.AccessDenied && a.Actor == "anonymous" && a.Target == "GET /audit"));
        using var export = await client.GetAsync(new Uri("/audit/export.csv", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, export.StatusCode);
        Assert.StartsWith("/account/login", Forms.RedirectPath(export), StringComparison.Ordinal);
        using var page = await client.GetAsync(new Uri("/audit", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);

        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == AuditTrailActions.AccessDenied && a.Actor == "anonymous" && a.Target == "GET /audit/export.csv")));
        Assert.Equal(before, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == AuditTrailActions.AccessDenied && a.Actor == "anonymous" && a.Target == "GET /audit")));
    }

    [Fact]
    public async Task Approvers_see_the_page_and_the_nav_link_operators_do_not_see_the_link()
    {
        var approver = Unique("audit-page-ap");
        await factory.CreateUserAsync(approver, PortalRoles.Approver);
        using var client = await factory.SignedInClientAsync(approver);
        var html = await Forms.GetPageAsync(client, "/audit");
        Assert.Contains("Audit trail", html, StringComparison.Ordinal);
        Assert.Contains("data-panel=\"audit-filters\"", html, StringComparison.Ordinal);
        Assert.Contains("data-nav=\"audit\"", html, StringComparison.Ordinal);

        var op = Unique("audit-page-op");
        await factory.CreateUserAsync(op, PortalRoles.Operator);
        using var opClient = await factory.SignedInClientAsync(op);
        Assert.DoesNotContain("data-nav=\"audit\"", await Forms.GetPageAsync(opClient, "/"), StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ bUnit: the page against the real service

    private BunitContext PageContext(System.Security.Claims.ClaimsPrincipal user)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(mud => mud.PopoverOptions.CheckForPopoverProvider = false);
        ctx.Services.AddSingleton(Trail);
        ctx.Services.AddSingleton(CheeseCave.Portal.Security.Entra.PortalSignIn.LocalAccounts); // the access-denied message asks which sign-in is in use
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        ctx.RenderTree.Add<CascadingValue<Task<AuthenticationState>>>(p => p.Add(c => c.Value, Task.FromResult(new AuthenticationState(user))));
        return ctx;
    }

    [Fact]
    public async Task The_page_lists_entries_expands_details_and_filters_by_correlation_id()
    {
        var approver = await UserAsync(PortalRoles.Approver);
        var action = Unique("test.page");
        await Log.WriteAsync(new Actor("u-1", "page-actor"), action, "page target", AuditOutcomes.Failed, "what happened");
        var entry = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().SingleAsync(a => a.Action == action));

        await using var ctx = PageContext(approver);
        var cut = ctx.Render<AuditPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-audit-row]")), TimeSpan.FromSeconds(30));

        // Narrow to this entry through the search box, open its details, then follow its correlation id.
        await cut.InvokeAsync(() => cut.Find("#audit-text").Input(action));
        cut.WaitForAssertion(() => Assert.Equal(entry.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(cut.FindAll("[data-audit-row]")).GetAttribute("data-audit-row")), TimeSpan.FromSeconds(30));
        Assert.Empty(cut.FindAll("[data-audit-details]"));
        await cut.InvokeAsync(() => cut.Find($"[data-expand=\"{entry.Id}\"]").Click());
        var details = cut.Find($"[data-audit-details=\"{entry.Id}\"]").TextContent;
        Assert.Contains("what happened", details, StringComparison.Ordinal);
        Assert.Contains(entry.CorrelationId!, details, StringComparison.Ordinal);
        Assert.Contains("id u-1", details, StringComparison.Ordinal);
        Assert.Contains($"q={Uri.EscapeDataString(action)}", cut.Find("[data-export-csv]").GetAttribute("href"), StringComparison.Ordinal);

        await cut.InvokeAsync(() => cut.Find("[data-same-correlation]").Click());
        cut.WaitForAssertion(() => Assert.Contains($"correlationId={entry.CorrelationId}", cut.Find("[data-export-csv]").GetAttribute("href"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_page_says_when_nothing_matches_and_refuses_a_user_demoted_since_it_opened()
    {
        var approver = await UserAsync(PortalRoles.Approver);
        await using var ctx = PageContext(approver);
        var cut = ctx.Render<AuditPage>();
        await cut.InvokeAsync(() => cut.Find("#audit-text").Input(Unique("nothing-matches")));
        cut.WaitForAssertion(() => Assert.Contains("No entries match these filters.", cut.Find("[data-audit-empty]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        // Demoted while the page is open: the next load is refused by the service, and the page says so.
        var admin = await UserAsync(PortalRoles.Administrator);
        var userId = approver.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;
        Assert.True((await factory.Services.GetRequiredService<UserAdministration>().ChangeRoleAsync(admin, userId, PortalRoles.Viewer)).Succeeded);
        await cut.InvokeAsync(() => cut.Find("#audit-text").Input(Unique("after-demotion")));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-access-denied]")), TimeSpan.FromSeconds(30));
        Assert.Empty(cut.FindAll("[data-audit-row]"));
    }
}
