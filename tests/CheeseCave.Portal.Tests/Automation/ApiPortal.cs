using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Automation.Grants;
using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Automation;

/// <summary>
/// A portal (approvals as the test asks) with one setup whose CA the portal holds, and helpers to make users, tokens,
/// grants and CSRs and to call /api/v1 with a token.
/// </summary>
public sealed class ApiPortal : IAsyncDisposable
{
    private int _users;

    private ApiPortal(PortalFactory factory) => Factory = factory;

    public PortalFactory Factory { get; }

    public int SetupId { get; private set; }

    public ClaimsPrincipal Operator { get; private set; } = new();

    /// <param name="gated">With approvals on, the actions that need them (null: all).</param>
    public static async Task<ApiPortal> StartAsync(bool approvals = false, string name = "api", IReadOnlyList<string>? gated = null)
    {
        var portal = new ApiPortal(new PortalFactory { Approvals = approvals, ApprovalsRequiredFor = gated });
        portal.Operator = await portal.UserAsync("op", PortalRoles.Operator);
        await using var scope = portal.Factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        portal.SetupId = (await wizard.Setups.CreateAsync(portal.Operator, $"{name} cave")).Value!.Id;
        var ca = await wizard.CaGeneration.GenerateCaAsync(portal.Operator, portal.SetupId, $"{name} Root", $"{name} Intermediate", ProfilePreset.Recommended);
        if (ca.Pending is not null)
        {
            var approver = await portal.UserAsync("ca-approver", PortalRoles.Approver);
            var approvalsService = scope.ServiceProvider.GetRequiredService<Portal.Approvals.ApprovalService>();
            Assert.True((await approvalsService.ApproveAsync(approver, ca.Pending!.RequestId)).Succeeded);
        }
        else
        {
            Assert.True(ca.Succeeded, ca.Error?.Message);
        }

        return portal;
    }

    /// <summary>A new user (unique name from <paramref name="hint"/>) with the role, as their cookie would carry them.</summary>
    public async Task<ClaimsPrincipal> UserAsync(string hint, string role)
    {
        var name = $"{hint}-{Interlocked.Increment(ref _users)}";
        await Factory.CreateUserAsync(name, role);
        return await Factory.PrincipalForAsync(name);
    }

    public async Task<T> UseAsync<T, TService>(Func<TService, Task<T>> use)
        where TService : notnull
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>A token for the user, made the way the account page makes it.</summary>
    public async Task<string> TokenAsync(ClaimsPrincipal user, params string[] scopes)
    {
        var created = await UseAsync<PortalResult<CreatedApiToken>, ApiTokenService>(s => s.CreateAsync(user, new ApiTokenRequest("test token", scopes.Length == 0 ? ["read", "issue"] : scopes, 30)));
        Assert.True(created.Succeeded, created.Error?.Message);
        return created.Value!.Secret;
    }

    public HttpClient Client(string? token)
    {
        var client = Factory.CreatePortalClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>An active grant on the setup (approvals off), straight through the handler.</summary>
    public async Task<GrantView> GrantAsync(string pattern = "line3-*", int maxCount = 100, ClaimsPrincipal? by = null)
    {
        var result = await UseAsync<PortalResult<GrantView>, GrantHandler>(g => g.RequestAsync(by ?? Operator, SetupId, new GrantRequest("Line 3", pattern, maxCount, 365)));
        Assert.True(result.Succeeded, result.Error?.Message ?? "waiting for approval");
        return result.Value!;
    }

    public static string Csr(string cn, Func<string, CertificateRequest>? make = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = make?.Invoke(cn) ?? new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        return request.CreateSigningRequestPem();
    }

    public ValueTask DisposeAsync() => Factory.DisposeAsync();
}
