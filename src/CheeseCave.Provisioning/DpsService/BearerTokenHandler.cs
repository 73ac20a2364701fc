using System.Net.Http.Headers;
using Azure.Core;

namespace CheeseCave.Provisioning.DpsService;

/// <summary>
/// Adds "Authorization: Bearer" from a <see cref="TokenCredential"/> to every request, reusing a token until five
/// minutes before it expires (Azure.Core's BearerTokenAuthenticationPolicy does the same for ARM). Bearer tokens go
/// over https only, as Azure.Core insists. A credential failure propagates unchanged: credentials in this
/// solution throw a ProvisioningException with a plain sentence, which the retry loop does not retry.
/// </summary>
internal sealed class BearerTokenHandler(TokenCredential credential, string scope, TimeProvider time, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private AccessToken? _token;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { Scheme: "https" })
        {
            throw new InvalidOperationException($"Bearer tokens are sent only over https; '{request.RequestUri}' is not https.");
        }

        var token = await GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is not { } current || current.ExpiresOn - RefreshMargin <= time.GetUtcNow())
            {
                current = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
                _token = current;
            }

            return current.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gate.Dispose();
        }

        base.Dispose(disposing);
    }
}
