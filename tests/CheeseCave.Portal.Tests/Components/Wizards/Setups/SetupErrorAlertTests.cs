using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: the error alert shows what the service said went wrong, and a retry only when it may help.</summary>
[Collection(WizardComponentsGroup.Name)]
public sealed class SetupErrorAlertTests
{
    [Fact]
    public async Task The_error_alert_shows_code_and_correlation_id_and_offers_a_retry_only_when_transient()
    {
        await using var ctx = WizardRendering.NewContext();
        var retried = 0;
        var transient = new PortalError("Could not create DPS 'x': the service is busy.", "Wait a moment and try again.", Status: 503, ServiceCode: "ServiceUnavailable", CorrelationId: "abc-123", IsTransient: true);
        var cut = ctx.Render<SetupErrorAlert>(p => p.Add(a => a.Error, transient).Add(a => a.OnRetry, () => retried++));
        Assert.Contains("ServiceUnavailable", cut.Find("[data-error-details]").TextContent, StringComparison.Ordinal);
        Assert.Equal("abc-123", cut.Find("[data-correlation-id]").TextContent);
        await cut.InvokeAsync(() => cut.Find("button").Click());
        Assert.Equal(1, retried);

        var permanent = transient with { IsTransient = false, Status = 400, ServiceCode = "InvalidName" };
        var second = ctx.Render<SetupErrorAlert>(p => p.Add(a => a.Error, permanent).Add(a => a.OnRetry, () => retried++));
        Assert.Empty(second.FindAll("button"));
    }
}
