using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.Errors;

/// <summary>What the service refuses comes back as ProvisioningException with its error code, plainly worded.</summary>
public sealed class FailureTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    private static void AssertPlain(ProvisioningException ex)
    {
        Assert.DoesNotContain("{", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Status:", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("Could not ", ex.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(ex.CorrelationId));
    }

    [Fact]
    public async Task A_verification_certificate_signed_by_another_key_is_refused()
    {
        using var pki = new TestPki("Signer");
        var arm = Emulator.Arm();
        var rg = Emulator.ResourceGroup;
        var dps = TestEmulator.Unique("dps");
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dps, "eastus"));
        await arm.UploadCertificateAsync(rg, dps, "root", pki.Root.Certificate);
        var code = await arm.GenerateVerificationCodeAsync(rg, dps, "root");
        using var wrong = pki.VerificationCertificate(code.Code, signer: pki.Intermediate);

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => arm.VerifyCertificateAsync(rg, dps, "root", wrong));

        Assert.Equal(ProvisioningSurface.Arm, ex.Surface);
        Assert.Equal(400, ex.Status);
        Assert.Matches("^400[0-9]{3}$", ex.ServiceErrorCode); // the DPS provider's numeric code (flat error body, as on Azure)
        Assert.False(ex.IsTransient);
        Assert.Contains("Proof-of-possession failed", ex.Message, StringComparison.Ordinal);
        AssertPlain(ex);
        Assert.False((await arm.GetCertificateAsync(rg, dps, "root"))!.IsVerified);
    }

    [Theory]
    [InlineData(DeviceTransport.Https)]
    [InlineData(DeviceTransport.Mqtt)]
    public async Task A_device_sending_only_its_leaf_gets_401002_missingChainElements(DeviceTransport transport)
    {
        using var pki = new TestPki("Leaf" + transport);
        var setup = await Emulator.SetUpCaveAsync(pki);
        using var service = Emulator.Service(setup.ServiceConnectionString);
        await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup { EnrollmentGroupId = "leafy", Attestation = AttestationMechanism.FromCaReferences("cave-root") });

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() =>
            Emulator.Devices().RegisterAsync(pki.Request(setup.IdScope, "lonely-leaf", sendChain: false), transport));

        Assert.Equal(ProvisioningSurface.Device, ex.Surface);
        Assert.Equal(401, ex.Status);
        Assert.Equal("401002", ex.ServiceErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Equal("missingChainElements", ex.Info["reason"]);
        Assert.Equal(pki.Intermediate.Certificate.Subject, ex.Info["missing"]);
        AssertPlain(ex);

        // The same device with its chain is assigned.
        var result = await Emulator.Devices().RegisterAsync(pki.Request(setup.IdScope, "lonely-leaf"), transport);
        Assert.True(result.IsAssigned);
    }

    [Fact]
    public async Task An_enrollment_update_race_is_resolved_by_reading_again()
    {
        using var pki = new TestPki("Race");
        var setup = await Emulator.SetUpCaveAsync(pki);
        using var other = Emulator.Service(setup.ServiceConnectionString);
        await other.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup
        {
            EnrollmentGroupId = "racy",
            Attestation = AttestationMechanism.FromCaReferences("cave-root"),
            InitialTwin = new InitialTwin { Tags = new JsonObject { ["cave"] = "brie" } },
        });

        // Someone else updates the group between our read and our write, once.
        var interfered = 0;
        RecordingHandler? recorder = null;
        using var service = Emulator.Service(setup.ServiceConnectionString, wrap: inner => recorder = new RecordingHandler(inner, async (request, _) =>
        {
            if (request.Method == HttpMethod.Put && Interlocked.Exchange(ref interfered, 1) == 0)
            {
                await other.UpdateEnrollmentGroupAsync("racy", g => g.InitialTwin!.Tags!["shelf"] = "top");
            }
        }));
        var applied = 0;

        var updated = await service.UpdateEnrollmentGroupAsync("racy", g =>
        {
            applied++;
            g.InitialTwin!.Tags!["humidity"] = "high";
        });

        Assert.Equal(2, applied);
        Assert.Equal("top", updated.InitialTwin!.Tags!["shelf"]!.GetValue<string>());
        Assert.Equal("high", updated.InitialTwin.Tags["humidity"]!.GetValue<string>());
        var puts = recorder!.Matching("PUT", "/enrollmentGroups/racy").ToList();
        Assert.Equal([412, 200], puts.Select(p => p.Status));
        Assert.All(puts, p => Assert.False(string.IsNullOrEmpty(p.IfMatch)));
        Assert.DoesNotContain('"', puts[1].IfMatch!);

        // CreateOrUpdate of an existing group replaces it (If-Match from a fresh read: no 409).
        var replaced = await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup
        {
            EnrollmentGroupId = "racy",
            Attestation = AttestationMechanism.FromCaReferences("cave-root"),
            ProvisioningStatus = ProvisioningStatus.Disabled,
        });
        Assert.Equal(ProvisioningStatus.Disabled, replaced.ProvisioningStatus);
        Assert.Null(replaced.InitialTwin);
    }

    [Fact]
    public async Task An_etag_that_never_matches_ends_in_ResourceChangedException()
    {
        using var pki = new TestPki("Stale");
        var setup = await Emulator.SetUpCaveAsync(pki);
        using var service = Emulator.Service(setup.ServiceConnectionString, wrap: inner => new RecordingHandler(inner, (request, _) =>
        {
            if (request.Method == HttpMethod.Put && request.Headers.Contains("If-Match")) RecordingHandler.SetIfMatch(request, "stale-etag");
            return Task.CompletedTask;
        }));
        await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup { EnrollmentGroupId = "stale", Attestation = AttestationMechanism.FromCaReferences("cave-root") });

        var ex = await Assert.ThrowsAsync<ResourceChangedException>(() => service.UpdateEnrollmentGroupAsync("stale", g => g.ProvisioningStatus = ProvisioningStatus.Disabled));

        Assert.Equal(412, ex.Status);
        Assert.Equal("412001", ex.ServiceErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Contains("read it again", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_SAS_key_is_a_401()
    {
        using var pki = new TestPki("Sas");
        var setup = await Emulator.SetUpCaveAsync(pki);
        var parsed = DpsServiceConnectionString.Parse(setup.ServiceConnectionString);
        var wrong = parsed with { SharedAccessKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) };
        using var service = Emulator.Service($"HostName={wrong.HostName};SharedAccessKeyName={wrong.SharedAccessKeyName};SharedAccessKey={wrong.SharedAccessKey}");

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("anything"));

        Assert.Equal(ProvisioningSurface.Service, ex.Surface);
        Assert.Equal(401, ex.Status);
        Assert.Equal("401002", ex.ServiceErrorCode);
        Assert.Equal("badSignature", ex.Info["reason"]);
        Assert.False(ex.IsTransient);
        AssertPlain(ex);
        Assert.DoesNotContain(wrong.SharedAccessKey, wrong.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Linking_reads_the_DPS_again_when_it_changed_in_between()
    {
        var rg = Emulator.ResourceGroup;
        var dpsName = TestEmulator.Unique("dps");
        var hubName = TestEmulator.Unique("hub");
        var setupArm = Emulator.Arm();
        await setupArm.CreateIotHubAsync(new IotHubCreateOptions(rg, hubName, "eastus"));
        var hubConnection = await setupArm.GetIotHubConnectionStringAsync(rg, hubName);
        var dps = await setupArm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dpsName, "eastus"));
        var dpsPath = $"/subscriptions/{Emulator.Server.Endpoints.SubscriptionId}/resourceGroups/{rg}/providers/Microsoft.Devices/provisioningServices/{dpsName}";

        // Someone tags the DPS (new etag) right before our first PUT.
        using var tagger = new HttpClient(Emulator.Connection.CreateHttpMessageHandler()) { BaseAddress = new Uri(Emulator.Server.Endpoints.ArmEndpoint) };
        tagger.DefaultRequestHeaders.Authorization = RecordingHandler.Bearer(Emulator.Server.Endpoints.BearerToken);
        var tagged = 0;
        RecordingHandler? recorder = null;
        var arm = Emulator.Arm(wrap: inner => recorder = new RecordingHandler(inner, async (request, _) =>
        {
            if (request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.Equals(dpsPath, StringComparison.OrdinalIgnoreCase) && Interlocked.Exchange(ref tagged, 1) == 0)
            {
                using var patch = await tagger.PatchAsJsonAsync($"{dpsPath}?api-version={ArmApiVersions.ProvisioningServices}", new { tags = new { owner = "someone-else" } });
                patch.EnsureSuccessStatusCode();
            }
        }));

        var linked = await arm.LinkIotHubAsync(rg, dpsName, new LinkIotHubOptions(hubConnection, "eastus"));

        Assert.Single(linked.LinkedHubs);
        var puts = recorder!.Matching("PUT", dpsPath).ToList();
        Assert.Equal([412, 201], puts.Select(p => p.Status));
        Assert.All(puts, p => Assert.False(string.IsNullOrEmpty(p.IfMatch)));
        Assert.NotEqual(puts[0].IfMatch, puts[1].IfMatch);
        Assert.Equal(dps.IdScope, linked.IdScope);

        // Linking again updates the link in place.
        var relinked = await arm.LinkIotHubAsync(rg, dpsName, new LinkIotHubOptions(hubConnection, "eastus") { AllocationWeight = 7, ApplyAllocationPolicy = false });
        var link = Assert.Single(relinked.LinkedHubs);
        Assert.Equal(7, link.AllocationWeight);
        Assert.False(link.ApplyAllocationPolicy);
        Assert.Empty((await arm.UnlinkIotHubAsync(rg, dpsName, link.HostName)).LinkedHubs);
    }

    [Fact]
    public async Task Verify_with_a_stale_etag_is_retried_once_after_reading_again()
    {
        using var pki = new TestPki("Verify");
        var rg = Emulator.ResourceGroup;
        var dps = TestEmulator.Unique("dps");
        var staled = 0;
        RecordingHandler? recorder = null;
        var arm = Emulator.Arm(wrap: inner => recorder = new RecordingHandler(inner, (request, _) =>
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/verify", StringComparison.Ordinal) && Interlocked.Exchange(ref staled, 1) == 0)
            {
                RecordingHandler.SetIfMatch(request, "AAAAAAAAAAA=");
            }

            return Task.CompletedTask;
        }));
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dps, "eastus"));
        await arm.UploadCertificateAsync(rg, dps, "root", pki.Root.Certificate);
        var code = await arm.GenerateVerificationCodeAsync(rg, dps, "root");
        using var verification = pki.VerificationCertificate(code.Code);

        var verified = await arm.VerifyCertificateAsync(rg, dps, "root", verification);

        Assert.True(verified.IsVerified);
        Assert.Equal([412, 200], recorder!.Matching("POST", "/verify").Select(r => r.Status));
        Assert.All(recorder.Requests.Where(r => r.Method is "POST" or "DELETE" && r.Path.Contains("/certificates/", StringComparison.Ordinal)), r => Assert.NotNull(r.IfMatch));

        // Re-uploading an existing certificate sends its current etag; deleting reads it first too.
        var replaced = await arm.UploadCertificateAsync(rg, dps, "root", pki.Root.Certificate, isVerified: true);
        Assert.True(replaced.IsVerified);
        Assert.NotNull(recorder.Matching("PUT", "/certificates/root").Last().IfMatch);
        Assert.True(await arm.DeleteCertificateAsync(rg, dps, "root"));
        Assert.NotNull(recorder.Matching("DELETE", "/certificates/root").Single().IfMatch);
        Assert.False(await arm.DeleteCertificateAsync(rg, dps, "root"));
    }

    [Fact]
    public async Task Missing_resources_read_as_null_and_refusals_keep_the_DPS_error_code()
    {
        var arm = Emulator.Arm();
        var rg = Emulator.ResourceGroup;
        Assert.Null(await arm.GetProvisioningServiceAsync(rg, "no-such-dps"));
        Assert.Null(await arm.GetProvisioningServiceAsync("no-such-group", "no-such-dps"));
        Assert.Null(await arm.GetIotHubAsync(rg, "no-such-hub"));
        Assert.False(await arm.DeleteIotHubAsync(rg, "no-such-hub"));

        var dpsName = TestEmulator.Unique("dps");
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dpsName, "eastus"));
        Assert.Null(await arm.GetCertificateAsync(rg, dpsName, "nothing"));
        var missing = await Assert.ThrowsAsync<ProvisioningException>(() => arm.GenerateVerificationCodeAsync(rg, dpsName, "nothing"));
        Assert.Equal(404, missing.Status);
        Assert.Matches("^404[0-9]{3}$", missing.ServiceErrorCode);

        var hubName = TestEmulator.Unique("hub");
        var hub = await arm.CreateIotHubAsync(new IotHubCreateOptions(rg, hubName, "eastus"));
        var badKey = $"HostName={hub.HostName};SharedAccessKeyName=iothubowner;SharedAccessKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}";
        var refused = await Assert.ThrowsAsync<ProvisioningException>(() => arm.LinkIotHubAsync(rg, dpsName, new LinkIotHubOptions(badKey, "eastus")));
        Assert.Equal(400, refused.Status);
        Assert.Matches("^400[0-9]{3}$", refused.ServiceErrorCode);
        Assert.False(refused.IsTransient);
        AssertPlain(refused);

        var serviceKeyRefused = await Assert.ThrowsAsync<ProvisioningException>(() => arm.GetIotHubConnectionStringAsync(rg, hubName, "registryRead-typo"));
        Assert.Equal("KeyNameNotFound", serviceKeyRefused.ServiceErrorCode);

        Assert.True(await arm.DeleteProvisioningServiceAsync(rg, dpsName));
        Assert.Null(await arm.GetProvisioningServiceAsync(rg, dpsName));
        Assert.True(await arm.DeleteIotHubAsync(rg, hubName));
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_never_trusted()
    {
        using var stranger = new TestPki("Stranger");
        var endpoints = Emulator.Server.Endpoints;
        var connection = ProvisioningConnection.ForEmulator(new EmulatorConnectionSettings
        {
            ArmEndpoint = new Uri(endpoints.ArmEndpoint),
            SubscriptionId = endpoints.SubscriptionId,
            BearerToken = endpoints.BearerToken,
            TrustBundlePem = Pki.CertificateExport.ToPem(stranger.Root.Certificate),
        });
        var arm = new ArmProvisioningClient(connection, new ArmProvisioningClientOptions { Retry = TestEmulator.FastRetry(1) });

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => arm.GetDefaultSubscriptionAsync());

        Assert.Equal(0, ex.Status);
        Assert.False(ex.IsTransient);
        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);

        using var service = new DpsServiceClient($"HostName={endpoints.ServiceHost};SharedAccessKeyName=x;SharedAccessKey={Convert.ToBase64String(new byte[32])}", connection,
            new DpsServiceClientOptions { Retry = TestEmulator.FastRetry(1) });
        var serviceEx = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("g"));
        Assert.False(serviceEx.IsTransient);
        Assert.Contains("TLS", serviceEx.Message, StringComparison.Ordinal);
    }
}
