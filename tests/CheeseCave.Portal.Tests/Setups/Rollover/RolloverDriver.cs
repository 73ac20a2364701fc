using System.Security.Claims;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>The rollover handlers of one DI scope beside the wizard's, and the set-up every rollover test starts from.</summary>
internal sealed class RolloverDriver(IServiceProvider services)
{
    public SetupSlices Wizard { get; } = new(services);

    public RolloverReader Reader => services.GetRequiredService<RolloverReader>();

    public RolloverStartHandler Start => services.GetRequiredService<RolloverStartHandler>();

    public RolloverCaSteps Ca => services.GetRequiredService<RolloverCaSteps>();

    public RolloverGroupSteps Groups => services.GetRequiredService<RolloverGroupSteps>();

    public RolloverReissue Reissue => services.GetRequiredService<RolloverReissue>();

    public RolloverCancel Cancel => services.GetRequiredService<RolloverCancel>();

    public RolloverProof Proof => services.GetRequiredService<RolloverProof>();

    public RolloverImport Import => services.GetRequiredService<RolloverImport>();

    /// <summary>Start, upload, prove (one click) and trust: the overlap, where both generations register.</summary>
    public async Task ToOverlapAsync(ClaimsPrincipal op, int setupId, RolloverStartForm form)
    {
        Ok(await Start.StartRolloverAsync(op, setupId, form));
        Ok(await Ca.UploadNewCaAsync(op, setupId));
        Ok(await Ca.ProveNewCaAsync(op, setupId));
        Ok(await Groups.TrustNewCaAsync(op, setupId));
    }

    /// <summary>Steps 1-9: a verified root + intermediate, an enrollment group on the root, and devices issued from it.</summary>
    public async Task<int> ProvisionedSetupAsync(ClaimsPrincipal op, string name, params string[] devices)
    {
        var id = await SetupSteps.VerifiedSetupAsync(Wizard, op, name, intermediate: true);
        var root = (await Wizard.Setups.GetAsync(op, id)).Value!.Root!;
        var saved = await Wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = $"{name}-devices", PrimaryCa = root.DpsCertificateName! });
        Assert.True(saved.Succeeded, saved.Error?.Message);
        if (devices.Length > 0)
        {
            var batch = await Wizard.Devices.IssueDevicesAsync(op, id, devices);
            Assert.True(batch.Succeeded, batch.Error?.Message);
        }

        return id;
    }

    public async Task<RolloverView> OpenAsync(ClaimsPrincipal caller, int setupId) =>
        (await Reader.GetRolloverAsync(caller, setupId)).Value!.Rollover ?? throw new InvalidOperationException("no open rollover");

    /// <summary>Registers the device certificate (a SetupDevice row) with the embedded emulator over HTTPS, as step 10 does.</summary>
    public async Task<TestRegistrationView> RegisterAsync(ClaimsPrincipal op, int setupId, int deviceId)
    {
        var result = await Wizard.Testing.TestRegistrationAsync(op, setupId, deviceId, DeviceTransport.Https);
        Assert.True(result.Succeeded, result.Error?.Message);
        return result.Value!;
    }

    public static void Ok<T>(PortalResult<T> result) => Assert.True(result.Succeeded, result.Error is null ? "waiting for approval" : $"{result.Error.Message} {result.Error.WhatToDo}");

    /// <summary>Refused with one sentence that contains <paramref name="words"/>, and what to do.</summary>
    public static void Refused<T>(PortalResult<T> result, string words)
    {
        Assert.False(result.Succeeded);
        Assert.NotNull(result.Error);
        Assert.Contains(words, result.Error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrWhiteSpace(result.Error.WhatToDo));
    }
}
