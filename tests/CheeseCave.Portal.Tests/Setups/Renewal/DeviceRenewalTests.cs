using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Renewal;

/// <summary>Renewing a device certificate (portal key or device CSR) against the embedded emulator.</summary>
public sealed class DeviceRenewalTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_renewed_device_registers_on_the_same_hub_and_the_old_certificate_is_superseded()
    {
        await factory.CreateUserAsync("rn-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rn-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var renewal = scope.ServiceProvider.GetRequiredService<DeviceRenewalHandler>();
        var reader = scope.ServiceProvider.GetRequiredService<DeviceCertificateReader>();
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "rncave", intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "rncave-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var original = (await wizard.Devices.IssueDevicesAsync(op, id, ["rncave-001"])).Value!.Devices.Single();
        var first = (await wizard.Testing.TestRegistrationAsync(op, id, original.Id, DeviceTransport.Https)).Value!;
        Assert.True(first.Assigned);

        var renewed = await renewal.RenewDeviceAsync(op, original.Id, null);
        Assert.True(renewed.Succeeded, renewed.Error?.Message);
        Assert.False(string.IsNullOrEmpty(renewed.Value!.PfxPassword));
        Assert.True(renewed.Value.Device.KeyAvailable);
        Assert.NotEqual(original.ThumbprintSha1, renewed.Value.Device.ThumbprintSha1);
        var (oldRow, newRow) = await factory.WithDbAsync(async db => (await db.SetupDevices.SingleAsync(d => d.Id == original.Id), await db.SetupDevices.SingleAsync(d => d.Id == renewed.Value.Device.Id)));
        Assert.Equal(newRow.Id, oldRow.SupersededByDeviceId);
        Assert.NotNull(oldRow.SupersededAt);
        Assert.Equal(oldRow.Id, newRow.RenewsDeviceId);
        Assert.Equal("rncave-001", newRow.RegistrationId);
        Assert.Equal(DeviceCertificateSource.PortalKey, newRow.Source);

        var again = (await wizard.Testing.TestRegistrationAsync(op, id, newRow.Id, DeviceTransport.Mqtt)).Value!;
        Assert.True(again.Assigned, $"{again.ErrorCode} {again.ErrorMessage}");
        Assert.Equal(first.AssignedHub, again.AssignedHub);
        var history = (await reader.GetDeviceAsync(op, newRow.Id)).Value!.History;
        Assert.Equal([DeviceCertificateStatus.Superseded, DeviceCertificateStatus.Active], history.Select(h => h.Status));

        var twice = await renewal.RenewDeviceAsync(op, original.Id, null);
        Assert.Contains("already renewed", twice.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_CSR_is_signed_and_bad_CSRs_and_revoked_devices_are_refused_with_one_sentence_each()
    {
        await factory.CreateUserAsync("rncsr-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rncsr-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var renewal = scope.ServiceProvider.GetRequiredService<DeviceRenewalHandler>();
        var revocation = scope.ServiceProvider.GetRequiredService<DeviceRevocationHandler>();
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "rncsr");
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, ["rncsr-001"])).Value!.Devices.Single();

        using var rsa1024 = RSA.Create(1024);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var wrongCn = await renewal.RenewDeviceAsync(op, device.Id, Csr(ec, "rncsr-999"));
        Assert.Contains("CN is 'rncsr-999'", wrongCn.Error!.Message, StringComparison.Ordinal);
        var caRequest = await renewal.RenewDeviceAsync(op, device.Id, Csr(ec, "rncsr-001", ca: true));
        Assert.Contains("CA", caRequest.Error!.Message, StringComparison.Ordinal);
        var weak = await renewal.RenewDeviceAsync(op, device.Id, Csr(rsa1024, "rncsr-001"));
        Assert.Contains("too weak", weak.Error!.Message, StringComparison.Ordinal);
        var tampered = await renewal.RenewDeviceAsync(op, device.Id, Csr(ec, "rncsr-001", tamper: true));
        Assert.Contains("signature", tampered.Error!.Message, StringComparison.Ordinal);
        Assert.All(new[] { wrongCn, caRequest, weak, tampered }, r => Assert.Contains("openssl req -new", r.Error!.WhatToDo, StringComparison.Ordinal));
        Assert.Equal(1, await factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == id))); // nothing written

        var signed = await renewal.RenewDeviceAsync(op, device.Id, Csr(ec, "rncsr-001"));
        Assert.True(signed.Succeeded, signed.Error?.Message);
        Assert.Null(signed.Value!.PfxPassword);
        Assert.False(signed.Value.Device.KeyAvailable);
        var row = await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == signed.Value.Device.Id));
        Assert.Equal(DeviceCertificateSource.DeviceCsr, row.Source);
        using (var certificate = X509Certificate2.CreateFromPem(row.CertificatePem))
        {
            Assert.Equal(ec.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
        }

        Assert.True((await revocation.RevokeDeviceAsync(op, row.Id, "decommissioned")).Succeeded);
        var refused = await renewal.RenewDeviceAsync(op, row.Id, null);
        Assert.Contains("was revoked", refused.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("Restore the device first", refused.Error.WhatToDo, StringComparison.Ordinal);
    }

    private static string Csr(AsymmetricAlgorithm key, string cn, bool ca = false, bool tamper = false)
    {
        var request = key is RSA rsa
            ? new CertificateRequest($"CN={cn}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={cn}", (ECDsa)key, HashAlgorithmName.SHA256);
        if (ca)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        }

        var der = request.CreateSigningRequest();
        if (tamper)
        {
            der[^5] ^= 0x01; // inside the signature
        }

        return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }
}
