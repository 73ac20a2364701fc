using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Hub;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// The DPS device registration API over HTTPS (docs/azure-wire.md §6.1): register, operation status and registration
/// status, with the device identified by its TLS client chain or a symmetric-key SAS. Also maps the IoT Hub
/// device registry, where assigned devices appear.
/// </summary>
internal static class DeviceEndpoints
{
    public static WebApplication MapDeviceEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var context = app.Services.GetRequiredService<EmulatorContext>();
        var engine = new RegistrationEngine(context, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RegistrationEngine>());

        app.MapPut("/{idScope}/registrations/{registrationId}/register", async (HttpContext http, string idScope, string registrationId) =>
        {
            var (body, error) = await ReadBodyAsync(http).ConfigureAwait(false);
            if (error is not null) return Write(http, DeviceApiResult.Fail(error));
            return Write(http, await engine.RegisterAsync(Request(http, idScope, registrationId, body)).ConfigureAwait(false));
        });

        // The Node SDK sends "{}" with this GET; the body is not read.
        app.MapGet("/{idScope}/registrations/{registrationId}/operations/{operationId}", (HttpContext http, string idScope, string registrationId, string operationId) =>
            Write(http, engine.GetOperation(Request(http, idScope, registrationId, null), operationId)));

        app.MapPost("/{idScope}/registrations/{registrationId}", async (HttpContext http, string idScope, string registrationId) =>
        {
            var (body, error) = await ReadBodyAsync(http).ConfigureAwait(false);
            if (error is not null) return Write(http, DeviceApiResult.Fail(error));
            return Write(http, engine.GetRegistrationState(Request(http, idScope, registrationId, body)));
        });

        app.MapHubRegistryEndpoints();
        app.MapHubServiceEndpoints();
        return app;
    }

    private static DeviceRequest Request(HttpContext http, string idScope, string registrationId, JsonNode? body) =>
        new(idScope, registrationId, PeerCertificates.From(http), http.Request.Headers.Authorization.FirstOrDefault(), body);

    internal static IResult Write(HttpContext http, DeviceApiResult result)
    {
        if (result.RetryAfterSeconds is { } retryAfter)
        {
            http.Response.Headers["retry-after"] = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return result.Error is { } error
            ? ErrorResponses.Dps(http, error.Status, error.ErrorCode, error.Message, error.Info.DeepClone().AsObject())
            : Results.Json(result.Body, statusCode: result.Status);
    }

    /// <summary>Reads an optional JSON body: an empty one is fine, a broken one is a 400.</summary>
    private static async Task<(JsonNode? Body, DeviceApiError? Error)> ReadBodyAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var text = await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        try
        {
            return (JsonNode.Parse(text), null);
        }
        catch (JsonException ex)
        {
            return (null, DeviceErrors.BodyNotJson(ex.Message));
        }
    }
}
