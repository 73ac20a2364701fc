using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Automation;
using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Automation;

public sealed class ApiTokenTests
{
    [Fact]
    public async Task A_new_token_is_shown_once_stored_only_as_its_hash_and_works_as_a_bearer_token()
    {
        await using var portal = await ApiPortal.StartAsync();
        var created = await portal.UseAsync<PortalResult<CreatedApiToken>, ApiTokenService>(s => s.CreateAsync(portal.Operator, new ApiTokenRequest("line 3", ["read"], 90)));
        Assert.True(created.Succeeded, created.Error?.Message);
        var secret = created.Value!.Secret;
        Assert.StartsWith("ccp_", secret, StringComparison.Ordinal);
        Assert.Equal(47, secret.Length);

        var stored = await portal.Factory.WithDbAsync(db => db.ApiTokens.AsNoTracking().SingleAsync(t => t.Id == created.Value.Token.Id));
        Assert.Equal(ApiTokenSecrets.Hash(secret), stored.SecretHash);
        Assert.Equal(secret[..12], stored.Prefix);
        var everything = await portal.Factory.WithDbAsync(async db => JsonSerializer.Serialize(await db.ApiTokens.AsNoTracking().ToListAsync()) + JsonSerializer.Serialize(await db.AuditEntries.AsNoTracking().ToListAsync()));
        Assert.DoesNotContain(secret[4..], everything, StringComparison.Ordinal);

        using var client = portal.Client(secret);
        using var response = await client.GetAsync(new Uri("/api/v1/setups", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setups = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(setups.EnumerateArray(), s => s.GetProperty("id").GetInt32() == portal.SetupId);

        // Last use is written off the request path, every couple of seconds: wait for it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        DateTimeOffset? lastUsed = null;
        while (lastUsed is null && DateTime.UtcNow < deadline)
        {
            lastUsed = await portal.Factory.WithDbAsync(db => db.ApiTokens.AsNoTracking().Where(t => t.Id == created.Value.Token.Id).Select(t => t.LastUsedAt).SingleAsync());
            if (lastUsed is null)
            {
                await Task.Delay(100);
            }
        }

        Assert.NotNull(lastUsed);
        var audit = await portal.Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == AutomationAuditActions.TokenCreated).ToListAsync());
        Assert.Contains(audit, a => a.Outcome == AuditOutcomes.Succeeded && a.Detail!.Contains("scopes read", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_revoked_or_expired_token_or_a_disabled_user_is_refused_with_a_sentence_and_audited()
    {
        await using var portal = await ApiPortal.StartAsync();
        var user = await portal.UserAsync("lifecycle", PortalRoles.Operator);
        var revoked = await portal.TokenAsync(user, "read");
        var expired = await portal.TokenAsync(user, "read");
        var tokens = await portal.UseAsync<PortalResult<IReadOnlyList<ApiTokenView>>, ApiTokenService>(s => s.ListAsync(user));
        var (revokedId, expiredId) = (tokens.Value![1].Id, tokens.Value[0].Id);
        Assert.True((await portal.UseAsync<PortalResult<ApiTokenView>, ApiTokenService>(s => s.RevokeAsync(user, revokedId))).Succeeded);
        await portal.Factory.WithDbAsync(db => db.ApiTokens.Where(t => t.Id == expiredId).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));

        await AssertRefusedAsync(portal, revoked, "was revoked on");
        await AssertRefusedAsync(portal, expired, "expired on");

        var disabledOwner = await portal.UserAsync("to-disable", PortalRoles.Operator);
        var ofDisabled = await portal.TokenAsync(disabledOwner, "read");
        await using (var scope = portal.Factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var entity = await users.GetUserAsync(disabledOwner);
            entity!.IsDisabled = true;
            Assert.True((await users.UpdateAsync(entity)).Succeeded);
        }

        await AssertRefusedAsync(portal, ofDisabled, "is disabled");
        var refusals = await portal.Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().CountAsync(a => a.Action == AutomationAuditActions.TokenRefused && a.Outcome == AuditOutcomes.Denied));
        Assert.Equal(3, refusals);
        Assert.Contains(await portal.Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Select(a => a.Action).ToListAsync()), a => a == AutomationAuditActions.TokenRevoked);
    }

    [Fact]
    public async Task A_token_just_used_is_refused_at_the_next_request_once_revoked_and_within_the_check_bound_once_its_user_is_disabled()
    {
        await using var portal = await ApiPortal.StartAsync(name: "fresh");
        var user = await portal.UserAsync("fresh", PortalRoles.Operator);
        var revoked = await portal.TokenAsync(user, "read");
        var ofDisabled = await portal.TokenAsync(user, "read");
        using (var client = portal.Client(revoked))
        using (var used = await client.GetAsync(new Uri("/api/v1/setups", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, used.StatusCode); // its check is now cached
        }

        var revokedId = (await portal.UseAsync<PortalResult<IReadOnlyList<ApiTokenView>>, ApiTokenService>(s => s.ListAsync(user))).Value!.Single(t => revoked.StartsWith(t.Prefix, StringComparison.Ordinal)).Id;
        Assert.True((await portal.UseAsync<PortalResult<ApiTokenView>, ApiTokenService>(s => s.RevokeAsync(user, revokedId))).Succeeded);
        await AssertRefusedAsync(portal, revoked, "was revoked on");

        using var line = portal.Client(ofDisabled);
        using (var used = await line.GetAsync(new Uri("/api/v1/setups", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        }

        await using (var scope = portal.Factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var entity = await users.GetUserAsync(user);
            entity!.IsDisabled = true;
            Assert.True((await users.UpdateAsync(entity)).Succeeded);
        }

        // Disabling happens outside the token's own service: the cached check may answer for up to its bound (2 s).
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            using var response = await line.GetAsync(new Uri("/api/v1/setups", UriKind.Relative));
            status = response.StatusCode;
            if (status != HttpStatusCode.Unauthorized)
            {
                await Task.Delay(100);
            }
        }
        while (status != HttpStatusCode.Unauthorized && DateTimeOffset.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        await AssertRefusedAsync(portal, ofDisabled, "is disabled");
    }

    private static async Task AssertRefusedAsync(ApiPortal portal, string token, string sentence)
    {
        using var client = portal.Client(token);
        using var response = await client.GetAsync(new Uri("/api/v1/setups", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(sentence, problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_demoted_user_s_token_loses_issuing_at_once_and_a_read_token_never_issues()
    {
        await using var portal = await ApiPortal.StartAsync();
        var grant = await portal.GrantAsync();
        var user = await portal.UserAsync("demoted", PortalRoles.Operator);
        var issuing = await portal.TokenAsync(user, "read", "issue");
        var reading = await portal.TokenAsync(portal.Operator, "read");
        using (var client = portal.Client(reading))
        using (var response = await client.PostAsync(new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative), new StringContent(ApiPortal.Csr("line3-0001"))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("issue scope", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString(), StringComparison.Ordinal);
        }

        await using (var scope = portal.Factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var entity = await users.GetUserAsync(user);
            Assert.True((await users.RemoveFromRoleAsync(entity!, PortalRoles.Operator)).Succeeded);
            Assert.True((await users.AddToRoleAsync(entity!, PortalRoles.Viewer)).Succeeded);
        }

        using var demoted = portal.Client(issuing);
        using (var response = await demoted.PostAsync(new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative), new StringContent(ApiPortal.Csr("line3-0002"))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        using (var response = await demoted.GetAsync(new Uri("/api/v1/grants", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync()));
    }

    [Fact]
    public async Task A_browser_session_does_not_authorize_the_api_and_a_token_cannot_make_tokens()
    {
        await using var portal = await ApiPortal.StartAsync();
        await portal.Factory.CreateUserAsync("cookie-op", PortalRoles.Operator);
        using var browser = await portal.Factory.SignedInClientAsync("cookie-op");
        using (var response = await browser.PostAsJsonAsync(new Uri("/api/v1/grants", UriKind.Relative), new { setupId = portal.SetupId, name = "x", pattern = "line3-*", maxCount = 1, validityDays = 30 }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.CountAsync()));

        // A token caller (as the API would hand it to a handler) cannot mint tokens.
        var token = await portal.TokenAsync(portal.Operator, "read", "issue");
        using var client = portal.Client(token);
        using var me = await client.GetAsync(new Uri("/api/v1/setups", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var tokenPrincipal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(portal.Operator.Claims, Portal.Security.ApiTokenPrincipal.Scheme));
        var minted = await portal.UseAsync<PortalResult<CreatedApiToken>, ApiTokenService>(s => s.CreateAsync(tokenPrincipal, new ApiTokenRequest("from a token", ["read"], 30)));
        Assert.True(minted.Error?.Denied);
    }

    [Theory]
    [InlineData("", new[] { "read" }, 30, "has no name")]
    [InlineData("x", new string[0], 30, "at least one scope")]
    [InlineData("x", new[] { "admin" }, 30, "at least one scope")]
    [InlineData("x", new[] { "read" }, 366, "1 to 365 days")]
    [InlineData("x", new[] { "read" }, 0, "1 to 365 days")]
    public async Task A_token_request_that_makes_no_sense_is_refused_with_what_to_do(string name, string[] scopes, int days, string sentence)
    {
        await using var portal = await ApiPortal.StartAsync();
        var created = await portal.UseAsync<PortalResult<CreatedApiToken>, ApiTokenService>(s => s.CreateAsync(portal.Operator, new ApiTokenRequest(name, scopes, days)));
        Assert.Contains(sentence, created.Error?.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(created.Error!.WhatToDo));
        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.ApiTokens.CountAsync()));
    }

    [Fact]
    public async Task A_viewer_cannot_make_an_issuing_token()
    {
        await using var portal = await ApiPortal.StartAsync();
        var viewer = await portal.UserAsync("viewer", PortalRoles.Viewer);
        var created = await portal.UseAsync<PortalResult<CreatedApiToken>, ApiTokenService>(s => s.CreateAsync(viewer, new ApiTokenRequest("x", ["issue"], 30)));
        Assert.Contains("need the Operator role", created.Error?.Message, StringComparison.Ordinal);
        Assert.True((await portal.UseAsync<PortalResult<CreatedApiToken>, ApiTokenService>(s => s.CreateAsync(viewer, new ApiTokenRequest("x", ["read"], 30)))).Succeeded);
    }
}
