using System.Diagnostics;
using System.Net;
using System.Text;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.DeviceRegistration;

/// <summary>
/// The live service answers register with 202 "assigning" and a retry-after, then the operation poll
/// (docs/azure-wire.md §6.1). The emulator assigns at once, so this drives the polling path with a scripted HTTPS answer.
/// </summary>
public sealed class DevicePollingTests
{
    private sealed class ScriptedDps(params (HttpStatusCode Status, string Body, string? RetryAfter)[] answers) : HttpMessageHandler
    {
        private int _next;

        public List<(string Method, string PathAndQuery, TimeSpan At)> Requests { get; } = [];

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((request.Method.Method, request.RequestUri!.PathAndQuery, Clock.Elapsed));
            var (status, body, retryAfter) = answers[Math.Min(_next++, answers.Length - 1)];
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (retryAfter is not null) response.Headers.TryAddWithoutValidation("retry-after", retryAfter);
            return Task.FromResult(response);
        }
    }

    private static DeviceRegistrationClient Client(ScriptedDps dps) =>
        new(ProvisioningConnection.ForAzure(new StaticTokenCredential("unused")), new DeviceRegistrationClientOptions
        {
            Retry = TestEmulator.FastRetry(3),
            DefaultPollInterval = TimeSpan.FromMilliseconds(30),
            WrapHandler = _ => dps,
        });

    [Fact]
    public async Task Register_polls_the_operation_honouring_retry_after_until_assigned()
    {
        using var pki = new TestPki("Poll");
        var dps = new ScriptedDps(
            (HttpStatusCode.Accepted, """{"operationId":"4.abc.op-1","status":"assigning"}""", "1"),
            (HttpStatusCode.TooManyRequests, """{"errorCode":429001,"trackingId":"t","message":"slow down"}""", "0"),
            (HttpStatusCode.Accepted, """{"operationId":"4.abc.op-1","status":"assigning"}""", null),
            (HttpStatusCode.OK, """
                {"operationId":"4.abc.op-1","status":"assigned","registrationState":{"registrationId":"poll-01","assignedHub":"cave.azure-devices.net",
                 "deviceId":"poll-01","status":"assigned","substatus":"deviceDataMigrated","etag":"x"}}
                """, null));

        var result = await Client(dps).RegisterOverHttpsAsync(pki.Request("0ne000ABCDE", "poll-01"));

        Assert.Equal(RegistrationStatus.Assigned, result.Status);
        Assert.Equal("cave.azure-devices.net", result.AssignedHub);
        Assert.Equal(RegistrationSubstatus.DeviceDataMigrated, result.Substatus);
        Assert.Equal("4.abc.op-1", result.OperationId);
        Assert.Equal(
            [
                ("PUT", "/0ne000ABCDE/registrations/poll-01/register?api-version=2021-06-01"),
                ("GET", "/0ne000ABCDE/registrations/poll-01/operations/4.abc.op-1?api-version=2021-06-01"),
                ("GET", "/0ne000ABCDE/registrations/poll-01/operations/4.abc.op-1?api-version=2021-06-01"),
                ("GET", "/0ne000ABCDE/registrations/poll-01/operations/4.abc.op-1?api-version=2021-06-01"),
            ],
            dps.Requests.Select(r => (r.Method, r.PathAndQuery)));
        Assert.True(dps.Requests[1].At - dps.Requests[0].At >= TimeSpan.FromSeconds(0.9), "the first poll waited for retry-after: 1");
    }

    [Fact]
    public async Task A_failed_registration_is_a_result_with_the_DPS_error_not_an_exception()
    {
        using var pki = new TestPki("Fail");
        var dps = new ScriptedDps((HttpStatusCode.OK, """
            {"operationId":"op","status":"failed","registrationState":{"registrationId":"fail-01","status":"failed","errorCode":400209,"errorMessage":"No valid hub"}}
            """, null));

        var result = await Client(dps).RegisterOverHttpsAsync(pki.Request("0ne000ABCDE", "fail-01"));

        Assert.Equal(RegistrationStatus.Failed, result.Status);
        Assert.Equal(400209, result.ErrorCode);
        Assert.Equal("No valid hub", result.ErrorMessage);
        Assert.Null(result.AssignedHub);
    }

    [Fact]
    public async Task An_answer_that_is_not_JSON_is_reported_plainly()
    {
        using var pki = new TestPki("NotJson");
        var dps = new ScriptedDps((HttpStatusCode.OK, "<html>proxy</html>", null));

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => Client(dps).RegisterOverHttpsAsync(pki.Request("0ne000ABCDE", "html-01")));

        Assert.False(ex.IsTransient);
        Assert.Contains("not JSON", ex.Message, StringComparison.Ordinal);
    }
}
