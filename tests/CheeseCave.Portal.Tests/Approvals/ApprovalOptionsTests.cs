using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Tests.Infrastructure;
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
        var error = Assert.Throws<OptionsValidationException>(() => broken.Services);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
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
