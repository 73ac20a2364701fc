using System.Net;
using System.Reflection;
using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

/// <summary>
/// Issue #5 item 5: every kind of caller against every page, every endpoint and every service method that takes a
/// caller. Pages, endpoints and methods are discovered by reflection, so a new one fails
/// <see cref="Every_page_endpoint_and_service_method_has_a_row"/> until it gets one row in the tables
/// (<see cref="PageRows"/>, <see cref="EndpointRows"/>, <see cref="MethodRows"/>); the row says the least role that may
/// use it, and the other tests derive every caller's expected answer from that. Refused changes must leave the database
/// and the emulator's state as they were and write a Denied audit entry.
/// </summary>
public sealed class AuthorizationMatrixTests(MatrixWorld world, ITestOutputHelper output) : IClassFixture<MatrixWorld>
{
    // Short names for the tables, which live in their own files.
    private static Dictionary<string, PageRule> Pages => PageRows.All;

    private static Dictionary<string, Sample[]> Endpoints => EndpointRows.All;

    private static Dictionary<string, MethodRule> Methods => MethodRows.All;

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
            problems.Add($"Page route \"{route}\" has no row in PageRows: add one with the least access that may open it.");
        }

        foreach (var route in Pages.Keys.Except(PageRoutes(), StringComparer.Ordinal))
        {
            problems.Add($"Pages has a row for \"{route}\", which no page declares any more: remove it.");
        }

        var endpoints = EndpointKeys().ToList();
        foreach (var key in endpoints.Where(k => !Endpoints.ContainsKey(k)))
        {
            problems.Add($"Endpoint \"{key}\" has no row in EndpointRows: add one with sample requests and the least access each needs.");
        }

        foreach (var key in Endpoints.Keys.Except(endpoints, StringComparer.Ordinal))
        {
            problems.Add($"Endpoints has a row for \"{key}\", which is not mapped any more: remove it.");
        }

        foreach (var method in CallerMethods().Where(m => !Methods.ContainsKey(m)))
        {
            problems.Add($"Method {method}(ClaimsPrincipal, ...) has no row in MethodRows: add one with the least access it needs and a refused and an allowed call.");
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
        var expected = sample.BearerOnly ? Outcome.Login : expectedOverride ?? Expected(caller, sample.Least, sample.Owner);
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
            // A request without a token is not audited (anyone can send one); refused tokens are (api-token.refused).
            var audited = expected is Outcome.Denied or Outcome.NotOwner || (!isPage && sample.Least >= Access.Viewer && !sample.BearerOnly);
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
