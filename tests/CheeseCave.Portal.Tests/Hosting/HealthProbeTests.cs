using System.Net;
using System.Text.Json;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Hosting;

/// <summary>The probes a load balancer uses: anonymous, no details beyond check names and states.</summary>
public sealed class HealthProbeTests
{
    [Fact]
    public async Task Live_and_ready_answer_200_naming_each_check_when_everything_is_up()
    {
        await using var factory = new PortalFactory();
        using var client = factory.CreateClient();

        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", Json(await live.Content.ReadAsStringAsync()).GetProperty("status").GetString());

        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        var body = Json(await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("no-store", ready.Headers.CacheControl?.ToString());
        Assert.Equal(
            ["dataProtection:Healthy", "database:Healthy", "provisioningTarget:Healthy"],
            body.GetProperty("checks").EnumerateObject().Select(c => $"{c.Name}:{c.Value.GetProperty("status").GetString()}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Ready_answers_503_and_names_the_emulator_when_it_stops_while_live_stays_200()
    {
        await using var factory = new PortalFactory();
        using var client = factory.CreateClient();
        using (var before = await client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await factory.Services.GetRequiredService<EmbeddedEmulator>().StopAsync(CancellationToken.None);

        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        var body = Json(await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        var target = body.GetProperty("checks").GetProperty("provisioningTarget");
        Assert.Equal("Unhealthy", target.GetProperty("status").GetString());
        Assert.Contains("emulator is not running", target.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());

        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
