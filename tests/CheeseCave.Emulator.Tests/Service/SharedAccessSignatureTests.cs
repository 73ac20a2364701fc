using System.Net.Http.Headers;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Service;

/// <summary>The reusable SAS code on its own (no server), against tokens built independently in <see cref="TestSas"/>.</summary>
public sealed class SharedAccessSignatureTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly AccessPolicy[] Policies = [new("iothubowner", TestSas.NewKey(), Key, "RegistryRead, RegistryWrite")];

    [Fact]
    public void A_token_signed_with_the_secondary_key_for_a_prefix_of_the_resource_is_valid()
    {
        var token = TestSas.Token("myhub.azure-devices.net", "iothubowner", Key, Now.AddMinutes(5));
        Assert.True(SharedAccessSignatures.TryValidate(token, Policies, "myhub.azure-devices.net/devices/d1", Now, out var result));
        Assert.Equal("iothubowner", result.Policy!.KeyName);
        Assert.True(SharedAccessSignatures.HasRight(result.Policy, "registrywrite"));
        Assert.False(SharedAccessSignatures.HasRight(result.Policy, "ServiceConnect"));
    }

    [Fact]
    public void Prefixes_match_whole_segments_only()
    {
        Assert.True(SharedAccessSignatures.ResourceMatches("https://MyHub.azure-devices.net/", ["myhub.azure-devices.net/devices/d1"]));
        Assert.False(SharedAccessSignatures.ResourceMatches("myhub.azure-devices.net/dev", ["myhub.azure-devices.net/devices/d1"]));
        Assert.False(SharedAccessSignatures.ResourceMatches("myhub.azure-devices.net/devices/d1", ["myhub.azure-devices.net"]));
    }

    [Theory]
    [InlineData(-1, nameof(SasOutcome.Expired))]
    [InlineData(0, nameof(SasOutcome.Expired))]
    [InlineData(1, nameof(SasOutcome.Valid))]
    public void The_expiry_is_exclusive(int secondsFromNow, string expectedOutcome)
    {
        // The outcome comes by name: SasOutcome is internal and xUnit test methods are public.
        var expected = Enum.Parse<SasOutcome>(expectedOutcome);
        var token = TestSas.Token("h", "iothubowner", Key, Now.AddSeconds(secondsFromNow));
        SharedAccessSignatures.TryValidate(token, Policies, "h", Now, out var result);
        Assert.Equal(expected, result.Outcome);
    }

    [Fact]
    public void Device_style_tokens_without_skn_verify_against_a_key_over_the_raw_or_encoded_sr()
    {
        var deviceKey = SharedAccessSignatures.DeriveDeviceKey(Key, "sn-007");
        var raw = TestSas.Token("0ne00000001/registrations/sn-007", "registration", deviceKey, Now.AddHours(1));
        var encoded = TestSas.Token(Uri.EscapeDataString("0ne00000001/registrations/sn-007"), "registration", deviceKey, Now.AddHours(1));
        foreach (var header in new[] { raw, encoded })
        {
            Assert.True(SharedAccessSignatures.TryParse(header, out var token, out _, out _));
            Assert.Equal("0ne00000001/registrations/sn-007", token!.Resource);
            Assert.Equal("registration", token.KeyName);
            Assert.True(SharedAccessSignatures.VerifySignature(token, null, deviceKey));
            Assert.False(SharedAccessSignatures.VerifySignature(token, Key));
        }
    }

    [Fact]
    public void Create_builds_tokens_that_validate()
    {
        var token = SharedAccessSignatures.Create("myhub.azure-devices.net", "iothubowner", Key, Now.AddHours(1));
        Assert.StartsWith("SharedAccessSignature sr=myhub.azure-devices.net&sig=", token, StringComparison.Ordinal);
        Assert.True(SharedAccessSignatures.TryValidate(token, Policies, "myhub.azure-devices.net", Now, out _));
    }

    [Theory]
    [InlineData(null, nameof(SasOutcome.Missing))]
    [InlineData("Basic dXNlcjpwYXNz", nameof(SasOutcome.Missing))]
    [InlineData("SharedAccessSignature sr=h&sig=x", nameof(SasOutcome.Malformed))]
    [InlineData("SharedAccessSignature sr=h&sig=x&se=-1", nameof(SasOutcome.Malformed))]
    [InlineData("SharedAccessSignature sr=h&sr=h&sig=x&se=1", nameof(SasOutcome.Malformed))]
    [InlineData("SharedAccessSignature sr=h&sig=AAAA&se=99999999999&skn=nobody", nameof(SasOutcome.UnknownKeyName))]
    [InlineData("SharedAccessSignature sr=h&sig=AAAA&se=99999999999&skn=iothubowner", nameof(SasOutcome.BadSignature))]
    public void Bad_headers_say_what_is_wrong(string? header, string expectedOutcome)
    {
        var expected = Enum.Parse<SasOutcome>(expectedOutcome);
        Assert.False(SharedAccessSignatures.TryValidate(header, Policies, "h", Now, out var result));
        Assert.Equal(expected, result.Outcome);
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
    }

    [Fact]
    public void SAS_tokens_verify_over_the_raw_and_the_encoded_resource()
    {
        var key = Convert.ToBase64String(new byte[32]);
        static SharedAccessToken Parse(string header) =>
            SharedAccessSignatures.TryParse(header, out var token, out _, out _) ? token! : throw new InvalidOperationException(header);
        var raw = Parse(SharedAccessSignatures.Create("0ne0001/registrations/dev-1", "registration", key, DateTimeOffset.UtcNow.AddHours(1)));
        var encoded = Parse(SharedAccessSignatures.Create("0ne0001%2fregistrations%2fdev-1", "registration", key, DateTimeOffset.UtcNow.AddHours(1)));

        Assert.True(SharedAccessSignatures.VerifySignature(raw, key));
        Assert.True(SharedAccessSignatures.VerifySignature(encoded, key));
        Assert.Equal("0ne0001/registrations/dev-1", encoded.Resource);
        Assert.False(SharedAccessSignatures.VerifySignature(raw, Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray())));
        Assert.False(SharedAccessSignatures.TryParse("Bearer abc", out var bearer, out _, out _));
        Assert.Null(bearer);
        Assert.NotNull(AuthenticationHeaderValue.Parse(SharedAccessSignatures.Create("h", "p", key, DateTimeOffset.UtcNow)));
    }
}
