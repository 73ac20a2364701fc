using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// <c>CheeseCave:ReverseProxy</c>: the proxies (nginx, a load balancer) whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> the portal believes. Empty by default, so a client cannot claim another address by
/// sending the header itself; behind a proxy, list it so each client gets its own sign-in bucket and cookies are
/// Secure when the proxy terminates TLS.
/// </summary>
public sealed class ReverseProxyOptions
{
    public const string SectionName = "CheeseCave:ReverseProxy";

    /// <summary>Addresses of the proxies, e.g. <c>127.0.0.1</c> for nginx on the same machine.</summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>Networks of the proxies in CIDR form, e.g. <c>10.0.0.0/8</c> for a load balancer pool.</summary>
    public IList<string> KnownNetworks { get; } = [];

    /// <summary>How many proxies in a row to believe (each appends one address to X-Forwarded-For).</summary>
    public int ForwardLimit { get; set; } = 1;

    public bool IsConfigured => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}

public static class ReverseProxy
{
    /// <summary>The antiforgery cookie Secure over HTTPS (the session cookie already is), and the trusted proxies.</summary>
    public static IServiceCollection AddReverseProxySupport(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddAntiforgery(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);

        var proxy = new ReverseProxyOptions();
        configuration.GetSection(ReverseProxyOptions.SectionName).Bind(proxy);
        services.AddSingleton(proxy);
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = Math.Max(1, proxy.ForwardLimit);
            options.KnownProxies.Clear(); // the default trusts loopback: only what is configured
            options.KnownIPNetworks.Clear();
            foreach (var address in proxy.KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.TryParse(address, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"{ReverseProxyOptions.SectionName}:KnownProxies: '{address}' is not an IP address."));
            }

            foreach (var network in proxy.KnownNetworks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"{ReverseProxyOptions.SectionName}:KnownNetworks: '{network}' is not a network in CIDR form (e.g. 10.0.0.0/8)."));
            }
        });
        return services;
    }

    /// <summary>First in the pipeline, so HSTS, HTTPS redirection, cookies and the sign-in limits see the client's address and scheme.</summary>
    public static WebApplication UseReverseProxySupport(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetRequiredService<ReverseProxyOptions>().IsConfigured)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }
}
