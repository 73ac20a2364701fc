using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Tests.Errors;

/// <summary>How failures are read (DPS and ARM error bodies, transient or not) and how long a retry waits.</summary>
public sealed class ErrorClassificationTests
{
    [Fact]
    public void The_classifier_reads_DPS_and_ARM_error_bodies()
    {
        var dps = ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Device, 401,
            """{"errorCode":401002,"trackingId":"track-1","message":"Chain incomplete.","info":{"reason":"missingChainElements","presented":["CN=a"]}}""",
            name => name == "x-ms-request-id" ? "req-1" : null, "client-1", "register device 'a'");
        Assert.Equal("401002", dps.ServiceErrorCode);
        Assert.Equal("track-1", dps.CorrelationId);
        Assert.Equal("Could not register device 'a': Chain incomplete.", dps.Message);
        Assert.Equal("missingChainElements", dps.Info["reason"]);
        Assert.Equal("""["CN=a"]""", dps.Info["presented"]);
        Assert.False(dps.IsTransient);

        var arm = ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Arm, 503, """{"code":"ServiceUnavailable","message":"Busy."}""",
            name => name switch { "x-ms-request-id" => "req-2", "Retry-After" => "7", _ => null }, "client-2", "read DPS 'x'");
        Assert.Equal("ServiceUnavailable", arm.ServiceErrorCode);
        Assert.Equal("req-2", arm.CorrelationId);
        Assert.Equal(TimeSpan.FromSeconds(7), arm.RetryAfter);
        Assert.True(arm.IsTransient);

        var changed = ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Service, 412, null, null, "client-3", "update enrollment group 'g'");
        Assert.IsType<ResourceChangedException>(changed);
        Assert.Equal("client-3", changed.CorrelationId);
        Assert.Contains("read it again", changed.Message, StringComparison.Ordinal);

        Assert.True(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new HttpRequestException("reset"), null, "x")!.IsTransient);
        Assert.True(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new IOException("reset"), null, "x")!.IsTransient);
        Assert.True(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new TaskCanceledException("timeout"), null, "x")!.IsTransient);
        Assert.False(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service,
            new HttpRequestException("tls", new System.Security.Authentication.AuthenticationException("bad cert")), null, "x")!.IsTransient);
        Assert.Null(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new InvalidOperationException("bug"), null, "x"));
        foreach (var status in new[] { 408, 429, 500, 502, 503, 504 }) Assert.True(ProvisioningErrorClassifier.IsTransientStatus(status));
        foreach (var status in new[] { 400, 401, 403, 404, 409, 412 }) Assert.False(ProvisioningErrorClassifier.IsTransientStatus(status));
    }

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_and_never_undercuts_retry_after()
    {
        var options = new ProvisioningRetryOptions { Delay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), MaxRetryAfter = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 50; i++)
        {
            var first = RetryLoop.DelayFor(options, 0, null);
            Assert.InRange(first.TotalMilliseconds, 80, 120);
            Assert.InRange(RetryLoop.DelayFor(options, 2, null).TotalMilliseconds, 320, 480);
            Assert.Equal(TimeSpan.FromSeconds(1), RetryLoop.DelayFor(options, 20, null));
        }

        Assert.Equal(TimeSpan.FromSeconds(5), RetryLoop.DelayFor(options, 0, TimeSpan.FromSeconds(5)));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryLoop.DelayFor(options, 0, TimeSpan.FromHours(1)));
    }
}
