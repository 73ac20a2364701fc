using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>Four eyes: the approval settings, their defaults and what stops the portal at start.</summary>
[Collection(ApprovalServiceGroup.Name)]
public sealed class ApprovalOptionsTests(ApprovalTestPortal portal)
{
    private PortalFactory Factory => portal.Factory;

    [Theory]
    [InlineData("RequiredApprovers", "0", "RequiredApprovers is 0")]
    [InlineData("ExpiresAfter", "00:00:10", "ExpiresAfter is 00:00:10")]
    [InlineData("RequiredFor:0", "ApproveEverything", "'ApproveEverything', which is not an action")]
    public void Invalid_settings_stop_the_portal_at_start_with_a_clear_message(string key, string value, string expected)
    {
        using var factory = new PortalFactory { Approvals = true };
        using var broken = factory.WithWebHostBuilder(b => b.UseSetting($"CheeseCave:Approvals:{key}", value));
        var thrown = Record.Exception(() => broken.Services);

        // The portal refuses to start. Which exception reaches the test is a race inside WebApplicationFactory: a host
        // that fails fast can be disposed before the factory reads its lifetime (ObjectDisposedException). So the
        // message is also checked at its source, the validator the portal runs at start, fed the same setting.
        Assert.NotNull(thrown);
        if (thrown is OptionsValidationException validation)
        {
            Assert.Contains(expected, validation.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.IsType<ObjectDisposedException>(thrown);
        }

        var options = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{ApprovalOptions.SectionName}:{key}"] = value })
            .Build()
            .GetSection(ApprovalOptions.SectionName)
            .Get<ApprovalOptions>()!;
        var result = new ApprovalOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_require_approval_for_every_action_by_one_colleague_within_three_days()
    {
        var options = Factory.Services.GetRequiredService<IOptions<ApprovalOptions>>().Value;
        Assert.True(options.Enabled);
        Assert.All(Enum.GetValues<ApprovalAction>(), action => Assert.True(options.Requires(action), action.ToString()));
        Assert.Equal(1, options.RequiredApprovers);
        Assert.Equal(TimeSpan.FromDays(3), options.ExpiresAfter);
        Assert.False(new ApprovalOptions { Enabled = false }.Requires(ApprovalAction.CreateCa));
        Assert.False(new ApprovalOptions { RequiredFor = ["IssueDevices"] }.Requires(ApprovalAction.CreateCa));
    }
}
