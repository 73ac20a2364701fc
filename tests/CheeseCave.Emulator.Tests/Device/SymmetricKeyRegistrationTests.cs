using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>Symmetric-key (SAS) registration: a group device signs with its derived key.</summary>
public sealed class SymmetricKeyRegistrationTests
{
    [Fact]
    public async Task A_symmetric_key_group_device_registers_with_its_derived_key()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();
        var groupKey = Convert.ToBase64String(new byte[64]);
        await env.PutEnrollmentAsync(new JsonObject
        {
            ["enrollmentGroupId"] = "sas-group",
            ["attestation"] = new JsonObject
            {
                ["type"] = "symmetricKey",
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = groupKey, ["secondaryKey"] = Convert.ToBase64String(new byte[32]) },
            },
        });
        var deviceKey = SharedAccessSignatures.DeriveDeviceKey(groupKey, "camembert-01");
        string Sas(string key, string id = "camembert-01") =>
            SharedAccessSignatures.Create($"{env.IdScope}/registrations/{id}", "registration", key, DateTimeOffset.UtcNow.AddHours(1));

        using var client = env.DeviceClient(null);
        var (status, body, _) = await env.RegisterWithAsync(client, "camembert-01", Sas(deviceKey));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("sas-group", body.Str("registrationState", "symmetricKey", "enrollmentGroupId"));
        var hubDevice = env.HubDevice("cave-hub", "camembert-01")!;
        Assert.Equal(("sas", deviceKey), (hubDevice.AuthenticationType, hubDevice.PrimaryKey));

        var (wrong, wrongBody, _) = await env.RegisterWithAsync(client, "camembert-02", Sas(deviceKey, "camembert-02"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        Assert.Equal("noEnrollment", wrongBody.Str("info", "reason"));

        var (expired, expiredBody, _) = await env.RegisterWithAsync(client, "camembert-01",
            SharedAccessSignatures.Create($"{env.IdScope}/registrations/camembert-01", "registration", deviceKey, DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(HttpStatusCode.Unauthorized, expired);
        Assert.Equal("sasExpired", expiredBody.Str("info", "reason"));
    }
}
