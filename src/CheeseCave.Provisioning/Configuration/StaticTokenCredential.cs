using Azure.Core;

namespace CheeseCave.Provisioning.Configuration;

/// <summary>
/// A credential that always returns one bearer token: the emulator's (endpoints.json "bearerToken"), or a token the
/// host obtained elsewhere. The token is reported as valid for an hour from each request so Azure.Core keeps asking.
/// </summary>
public sealed class StaticTokenCredential : TokenCredential
{
    private readonly string _token;
    private readonly TimeProvider _time;

    public StaticTokenCredential(string token, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _token = token;
        _time = timeProvider ?? TimeProvider.System;
    }

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(_token, _time.GetUtcNow().AddHours(1));

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));

    /// <summary>Never shows the token.</summary>
    public override string ToString() => nameof(StaticTokenCredential);
}
