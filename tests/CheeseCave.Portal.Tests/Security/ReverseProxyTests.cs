using System.Net;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Security;

/// <summary>Behind Debian's nginx (CheeseCave:ReverseProxy:KnownProxies = 127.0.0.1): addresses and scheme come from the proxy.</summary>
public sealed class ReverseProxyTests(NginxInFront proxy) : IClassFixture<NginxInFront>
{
    [NginxFact]
    public async Task Behind_nginx_each_client_gets_its_own_sign_in_bucket()
    {
        // The per-address limit is 3 a minute here. Client A uses it up, even when it claims another address itself.
        using var clientA = proxy.ClientFrom("127.0.0.2");
        var tokenA = await Forms.AntiforgeryTokenAsync(clientA, "/account/login");
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            using var allowed = await Forms.PostSignInAsync(clientA, tokenA, "spray-" + attempt, "wrong password");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await Forms.PostSignInAsync(clientA, tokenA, "spray-4", "wrong password");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        clientA.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");
        using var spoofed = await Forms.PostSignInAsync(clientA, tokenA, "spray-5", "wrong password");
        Assert.Equal(HttpStatusCode.TooManyRequests, spoofed.StatusCode);

        // Client B, another address behind the same nginx, is not in A's bucket.
        using var clientB = proxy.ClientFrom("127.0.0.3");
        var tokenB = await Forms.AntiforgeryTokenAsync(clientB, "/account/login");
        using var other = await Forms.PostSignInAsync(clientB, tokenB, "someone", "wrong password");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [NginxFact]
    public async Task Behind_nginx_terminating_TLS_cookies_are_Secure_and_HSTS_is_sent()
    {
        using var client = proxy.ClientFrom("127.0.0.4");

        client.DefaultRequestHeaders.Host = "portal.example"; // HSTS is never sent to localhost or loopback addresses

        using var response = await client.GetAsync(new Uri("/account/login", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var antiforgery = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
        Assert.Contains("secure", antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.True(response.Headers.Contains("Strict-Transport-Security"));
    }
}
