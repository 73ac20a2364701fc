using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

public sealed class ServiceAuthenticationTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static readonly JsonObject SymmetricGroup = new() { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } };

    private static DateTimeOffset InAnHour => DateTimeOffset.UtcNow.AddHours(1);

    private async Task AssertUnauthorizedAsync(TestDps dps, string? token, string reason, HttpMethod? method = null, string path = "/enrollmentGroups/g1")
    {
        method ??= HttpMethod.Get;
        using var request = new HttpRequestMessage(method, path + "?api-version=2021-10-01");
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", token);
        if (method == HttpMethod.Put) request.Content = EmulatorHarness.Json(SymmetricGroup.DeepClone());
        var response = await fx.Client.SendAsync(request);
        var body = await EmulatorHarness.ReadJsonAsync(response);
        ServiceAssert.DpsError(response, body, HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal(reason, body!["info"]!["reason"]!.GetValue<string>());
        Assert.DoesNotContain(dps.OwnerKey, body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_signature_is_401()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertUnauthorizedAsync(dps, TestSas.Token(fx.Host, TestDps.Owner, TestSas.NewKey(), InAnHour), "badSignature");
    }

    [Fact]
    public async Task An_expired_token_is_401_saying_when_it_expired()
    {
        var dps = await fx.CreateDpsAsync();
        var expiredAt = DateTimeOffset.UtcNow.AddMinutes(-5);
        var token = TestSas.Token(fx.Host, TestDps.Owner, dps.OwnerKey, expiredAt);
        await AssertUnauthorizedAsync(dps, token, "tokenExpired");
        var (_, body) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/g1", token: token);
        Assert.Contains("expired at " + expiredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), ServiceAssert.Message(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_policy_without_the_needed_right_is_401_but_may_do_what_its_rights_allow()
    {
        var dps = await fx.CreateDpsAsync();
        var reader = TestSas.Token(fx.Host, TestDps.Reader, dps.ReaderKey, InAnHour);
        await AssertUnauthorizedAsync(dps, reader, "missingRight", HttpMethod.Put);
        await AssertUnauthorizedAsync(dps, reader, "missingRight", HttpMethod.Delete);
        await AssertUnauthorizedAsync(dps, reader, "missingRight", HttpMethod.Get, "/registrations/r1");

        var (query, _) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/query", new JsonObject { ["query"] = "*" }, token: reader);
        ServiceAssert.Ok(query);
        var (_, body) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/g1", SymmetricGroup.DeepClone(), token: reader);
        Assert.Contains("EnrollmentWrite", ServiceAssert.Message(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_key_name_is_401()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertUnauthorizedAsync(dps, TestSas.Token(fx.Host, "iothubowner", dps.OwnerKey, InAnHour), "unknownKeyName");
    }

    [Fact]
    public async Task A_token_for_another_host_is_401()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertUnauthorizedAsync(dps, TestSas.Token("other-dps.azure-devices-provisioning.net", TestDps.Owner, dps.OwnerKey, InAnHour), "wrongHost");
        await AssertUnauthorizedAsync(dps, TestSas.Token("evil.example.com", TestDps.Owner, dps.OwnerKey, InAnHour), "wrongHost");
    }

    [Fact]
    public async Task A_missing_or_garbled_Authorization_header_or_a_bearer_token_is_401()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertUnauthorizedAsync(dps, null, "missingToken");
        await AssertUnauthorizedAsync(dps, "Bearer eyJhbGciOi", "missingToken");
        await AssertUnauthorizedAsync(dps, "SharedAccessSignature sr=localhost&skn=x", "malformedToken");
        await AssertUnauthorizedAsync(dps, "SharedAccessSignature sr=localhost&sig=abc&skn=x&se=soon", "malformedToken");
    }

    [Fact]
    public async Task Tokens_are_accepted_in_the_forms_SDKs_send()
    {
        var dps = await fx.CreateDpsAsync();
        var host = fx.Host;
        var expiry = InAnHour;
        var forms = new[]
        {
            // Node: sr raw, fields sr, sig, skn, se.
            TestSas.Token(host, TestDps.Owner, dps.OwnerKey, expiry),
            // C#/Python: sr URL-encoded and signed in that form (the port's ':' becomes %3A).
            TestSas.Token(Uri.EscapeDataString(host), TestDps.Owner, dps.OwnerKey, expiry),
            // sr URL-encoded in the header but signed over the plain host.
            TestSas.Token(Uri.EscapeDataString(host), TestDps.Owner, dps.OwnerKey, expiry, signedResource: host),
            // The DPS's Azure host name, and the host without its port.
            TestSas.Token(dps.Name + ".azure-devices-provisioning.net", TestDps.Owner, dps.OwnerKey, expiry),
            TestSas.Token("LOCALHOST", TestDps.Owner, dps.OwnerKey, expiry),
        };
        foreach (var token in forms)
        {
            var (response, _) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/query", new JsonObject { ["query"] = "*" }, token: token);
            ServiceAssert.Ok(response);
        }

        // Any field order.
        var parts = TestSas.Token(host, TestDps.Owner, dps.OwnerKey, expiry)["SharedAccessSignature ".Length..].Split('&');
        var reordered = "SharedAccessSignature " + string.Join('&', parts.Reverse());
        var (reorderedResponse, _) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/query", new JsonObject { ["query"] = "*" }, token: reordered);
        ServiceAssert.Ok(reorderedResponse);
    }

    [Fact]
    public async Task Two_DPS_instances_on_the_same_host_are_told_apart_by_their_keys()
    {
        var first = await fx.CreateDpsAsync();
        var second = await fx.CreateDpsAsync();
        var (one, _) = await fx.SendAsync(first, HttpMethod.Put, "/enrollmentGroups/shared-name", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" }, ["provisioningStatus"] = "enabled" });
        var (two, _) = await fx.SendAsync(second, HttpMethod.Put, "/enrollmentGroups/shared-name", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" }, ["provisioningStatus"] = "disabled" });
        ServiceAssert.Ok(one);
        ServiceAssert.Ok(two);
        var (_, onlyFirst) = await fx.SendAsync(first, HttpMethod.Put, "/enrollmentGroups/first-only", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } });
        Assert.NotNull(onlyFirst);

        var (_, fromFirst) = await fx.SendAsync(first, HttpMethod.Get, "/enrollmentGroups/shared-name");
        var (_, fromSecond) = await fx.SendAsync(second, HttpMethod.Get, "/enrollmentGroups/shared-name");
        Assert.Equal("enabled", fromFirst!["provisioningStatus"]!.GetValue<string>());
        Assert.Equal("disabled", fromSecond!["provisioningStatus"]!.GetValue<string>());

        var (missing, missingBody) = await fx.SendAsync(second, HttpMethod.Get, "/enrollmentGroups/first-only");
        ServiceAssert.DpsError(missing, missingBody, HttpStatusCode.NotFound, ErrorCodes.EnrollmentNotFound);
        var (_, secondList) = await fx.SendAsync(second, HttpMethod.Post, "/enrollmentGroups/query", new JsonObject { ["query"] = "*" });
        Assert.Single(secondList!.AsArray());

        // A token naming the first DPS's host but signed with the second's key is refused.
        var crossed = TestSas.Token(first.Name + ".azure-devices-provisioning.net", TestDps.Owner, second.OwnerKey, InAnHour);
        await AssertUnauthorizedAsync(second, crossed, "wrongHost");
    }
}
