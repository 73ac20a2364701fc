using CheeseCave.Emulator.Arm;

namespace CheeseCave.Emulator.Hosting;

/// <summary>ARM calls must carry the emulator's bearer token (from endpoints.json), as Azure requires a valid Entra token.</summary>
internal sealed class ArmAuthenticationMiddleware(RequestDelegate next, EmulatorContext context)
{
    public Task InvokeAsync(HttpContext http)
    {
        if (Surfaces.Of(http.Request.Path) != Surface.Arm)
        {
            return next(http);
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return ArmErrors.AuthorizationMissing().ToResult().ExecuteAsync(http);
        }

        var token = header["Bearer ".Length..].Trim();
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(context.BearerToken)))
        {
            return ArmErrors.InvalidAuthenticationToken().ToResult().ExecuteAsync(http);
        }

        return next(http);
    }
}
