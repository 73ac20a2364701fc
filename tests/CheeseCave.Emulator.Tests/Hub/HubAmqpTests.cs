using System.Security.Cryptography.X509Certificates;
using Amqp;
using Amqp.Framing;
using CheeseCave.Emulator.Tests.Device;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>The hub's AMQP service endpoint as the service SDKs use it: CBS put-token on $cbs, then /messages/devicebound.</summary>
public sealed class HubAmqpTests
{
    [Fact]
    public async Task A_put_token_with_ServiceConnect_lets_a_service_send_a_cloud_to_device_message_over_AMQP()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync(configure: o => o.AmqpPort = 0);
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-amqp-1");
        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        await device.SubscribeAsync("devices/cave-amqp-1/messages/devicebound/#");
        var connection = await ConnectAsync(env);
        try
        {
            Assert.Equal(200, await PutTokenAsync(connection, DeviceTestEnvironment.HubSas("cave-hub", "service", DeviceTestEnvironment.HubKey("cave-hub-svc"))));
            var session = new Session(connection);
            var sender = new SenderLink(session, "c2d", "/messages/devicebound");
            var message = new Message(System.Text.Encoding.UTF8.GetBytes("flip the wheels"))
            {
                Properties = new Properties { MessageId = "amqp-1", To = "/devices/cave-amqp-1/messages/devicebound" },
                ApplicationProperties = new ApplicationProperties(),
            };
            message.ApplicationProperties["shelf"] = "C/2";
            await sender.SendAsync(message);

            var (topic, payload) = await device.ReceiveAsync(@"^devices/cave-amqp-1/messages/devicebound/(.*)$");
            Assert.Equal("flip the wheels", payload);
            Assert.Contains("%24.mid=amqp-1", topic.Groups[1].Value, StringComparison.Ordinal);
            Assert.Contains("shelf=C%2F2", topic.Groups[1].Value, StringComparison.Ordinal);
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    [Fact]
    public async Task A_bad_put_token_is_answered_401_and_a_send_without_one_is_refused()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync(configure: o => o.AmqpPort = 0);
        await HubTestKit.ProvisionAsync(env, pki, "cave-amqp-2");
        var connection = await ConnectAsync(env);
        try
        {
            Assert.Equal(401, await PutTokenAsync(connection, DeviceTestEnvironment.HubSas("cave-hub", key: DeviceTestEnvironment.HubKey("not-the-key"))));
            var sender = new SenderLink(new Session(connection), "c2d", "/messages/devicebound");
            var message = new Message(new byte[] { 1 }) { Properties = new Properties { To = "/devices/cave-amqp-2/messages/devicebound" } };
            var refused = await Assert.ThrowsAsync<AmqpException>(() => sender.SendAsync(message));
            Assert.Equal("amqp:unauthorized-access", refused.Error.Condition.ToString());
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    private static Task<Connection> ConnectAsync(DeviceTestEnvironment env)
    {
        var ca = env.Harness.Server.Context.Tls.CaCertificate;
        var factory = new ConnectionFactory();
        factory.SSL.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && HubMqttDevice.TrustedBy(ca, certificate);
        var host = new Uri("amqps://" + env.Harness.Server.Endpoints.AmqpHost);
        return factory.CreateAsync(new Address(host.Host, host.Port, null, null, "/", "amqps"));
    }

    /// <summary>The CBS request the SDKs send, and the status-code of the answer.</summary>
    private static async Task<int> PutTokenAsync(Connection connection, string token)
    {
        var session = new Session(connection);
        var requests = new SenderLink(session, "cbs-sender", "$cbs");
        var answers = new ReceiverLink(session, "cbs-receiver", "$cbs");
        var request = new Message(token)
        {
            Properties = new Properties { MessageId = "put-1", ReplyTo = "cbs" },
            ApplicationProperties = new ApplicationProperties(),
        };
        request.ApplicationProperties["operation"] = "put-token";
        request.ApplicationProperties["type"] = "servicebus.windows.net:sastoken";
        request.ApplicationProperties["name"] = DeviceTestEnvironment.HubHost("cave-hub");
        await requests.SendAsync(request);
        var answer = await answers.ReceiveAsync(TimeSpan.FromSeconds(15));
        Assert.NotNull(answer);
        answers.Accept(answer);
        Assert.Equal("put-1", answer.Properties.CorrelationId);
        return Convert.ToInt32(answer.ApplicationProperties["status-code"], System.Globalization.CultureInfo.InvariantCulture);
    }
}
