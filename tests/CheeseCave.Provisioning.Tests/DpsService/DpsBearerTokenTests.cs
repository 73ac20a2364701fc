using Azure.Core;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.DpsService;

/// <summary>
/// The DPS service client with an Entra ID token instead of SAS. The emulator's service API accepts only
/// SharedAccessSignature tokens, so these tests prove what the client sends (scope, header, token reuse, failures)
/// and that the emulator's refusal comes back in words; a successful bearer call needs real Azure.
/// </summary>
public sealed class DpsBearerTokenTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    [Fact]
    public async Task Sends_a_bearer_token_for_the_DPS_scope_and_reuses_it_until_it_nears_expiry()
    {
        using var pki = new TestPki("Bearer");
        var setup = await Emulator.SetUpCaveAsync(pki);
        var host = DpsServiceConnectionString.Parse(setup.ServiceConnectionString).HostName;
        var credential = new RecordingCredential("entra-token-1", DateTimeOffset.UtcNow.AddHours(1));
        var authorizations = new List<string?>();
        using var service = new DpsServiceClient(host, credential, Emulator.Connection, new DpsServiceClientOptions
        {
            Retry = TestEmulator.FastRetry(0),
            WrapHandler = inner => new RecordingHandler(inner, (request, _) =>
            {
                lock (authorizations)
                {
                    authorizations.Add(request.Headers.Authorization?.ToString());
                }

                return Task.CompletedTask;
            }),
        });

        var first = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("cave"));
        var second = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("cave"));

        Assert.Equal(["https://azure-devices-provisioning.net/.default"], Assert.Single(credential.Requests));
        Assert.Equal(["Bearer entra-token-1", "Bearer entra-token-1"], authorizations);
        Assert.Equal(host, service.HostName);

        // The emulator's limitation, reported as the emulator words it (not a fake success).
        Assert.Equal(401, first.Status);
        Assert.Equal(ProvisioningSurface.Service, first.Surface);
        Assert.Contains("accepts only SharedAccessSignature tokens, not Bearer", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
    }

    [Fact]
    public async Task A_token_close_to_expiry_is_renewed()
    {
        using var pki = new TestPki("Renew");
        var setup = await Emulator.SetUpCaveAsync(pki);
        var credential = new RecordingCredential("short-lived", DateTimeOffset.UtcNow.AddMinutes(2));
        using var service = new DpsServiceClient(DpsServiceConnectionString.Parse(setup.ServiceConnectionString).HostName, credential, Emulator.Connection,
            new DpsServiceClientOptions { Retry = TestEmulator.FastRetry(0) });

        await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("cave"));
        await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("cave"));

        Assert.Equal(2, credential.Requests.Count);
    }

    [Fact]
    public async Task A_credential_failure_surfaces_unchanged_and_nothing_is_sent()
    {
        var refusal = new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Service, 401, "Sign out and sign in again.", "SignInRequired"));
        var credential = new RecordingCredential("unused", DateTimeOffset.UtcNow.AddHours(1)) { Failure = refusal };
        RecordingHandler? recorder = null;
        using var service = new DpsServiceClient("somedps.azure-devices-provisioning.net", credential, Emulator.Connection,
            new DpsServiceClientOptions { Retry = TestEmulator.FastRetry(3), WrapHandler = inner => recorder = new RecordingHandler(inner) });

        var thrown = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("cave"));

        Assert.Same(refusal, thrown);
        Assert.Equal(0, recorder!.Attempts);
        Assert.Single(credential.Requests); // not retried: it is not transient
    }

    [Theory]
    [InlineData("")]
    [InlineData("https://somedps.azure-devices-provisioning.net/")]
    [InlineData("HostName=somedps.azure-devices-provisioning.net;SharedAccessKeyName=x")]
    public void A_host_name_is_required(string host) =>
        Assert.ThrowsAny<ArgumentException>(() => new DpsServiceClient(host, new RecordingCredential("t", DateTimeOffset.UtcNow), Emulator.Connection));

    /// <summary>A stand-in for an Entra ID credential (Azure.Core's abstract type): records the scopes asked for.</summary>
    private sealed class RecordingCredential(string token, DateTimeOffset expiresOn) : TokenCredential
    {
        public List<string[]> Requests { get; } = [];

        public Exception? Failure { get; init; }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add(requestContext.Scopes);
            }

            return Failure is null ? ValueTask.FromResult(new AccessToken(token, expiresOn)) : ValueTask.FromException<AccessToken>(Failure);
        }
    }
}
