using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CheeseCave.Portal.Tests.Setups.Expiry;

/// <summary>
/// A real Kestrel server on a loopback port that records every POST to /hook (body, headers, when it came) and answers
/// from a queue of scripted replies (then 200). Stands in for a Teams or Slack incoming webhook.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _replies = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly List<ReceivedPost> _posts = [];

    private WebhookReceiver(WebApplication app) => _app = app;

    public sealed record ReceivedPost(string Body, string? ContentType, string? Signature, string? ApiKey, TimeSpan At, int AnsweredWith);

    public string Url { get; private set; } = "";

    public IReadOnlyList<ReceivedPost> Posts
    {
        get
        {
            lock (_gate)
            {
                return [.. _posts];
            }
        }
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // An explicit endpoint: the portal's appsettings.json (copied beside the tests) names a fixed port in "Urls".
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var (status, retryAfter) = receiver._replies.TryDequeue(out var reply) ? reply : (200, null);
            lock (receiver._gate)
            {
                receiver._posts.Add(new ReceivedPost(body, context.Request.ContentType, context.Request.Headers["X-CheeseCave-Signature"].FirstOrDefault(),
                    context.Request.Headers["X-Api-Key"].FirstOrDefault(), receiver._clock.Elapsed, status));
            }

            if (retryAfter is not null)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }

            context.Response.StatusCode = status;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hook";
        return receiver;
    }

    /// <summary>The next POSTs get these answers, in order (e.g. 503 with "Retry-After: 1").</summary>
    public void Reply(int status, string? retryAfter = null) => _replies.Enqueue((status, retryAfter));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
