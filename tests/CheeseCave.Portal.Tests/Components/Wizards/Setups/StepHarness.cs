using System.Security.Claims;
using System.Text;
using Bunit;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// What the step component tests share: a bUnit context wired to the handlers of one scope, users, a device's key.
/// One per test; disposing it disposes the scopes its contexts fell back on.
/// </summary>
internal sealed class StepHarness(PortalFactory factory) : IAsyncDisposable
{
    private readonly List<AsyncServiceScope> _scopes = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var scope in _scopes)
        {
            await scope.DisposeAsync();
        }
    }

    public BunitContext NewContext(SetupSlices wizard)
    {
        var ctx = new BunitContext();
        var services = factory.Services.CreateAsyncScope(); // the steps' approval banners (scoped ApprovalService)
        _scopes.Add(services);
        ctx.Services.AddFallbackServiceProvider(services.ServiceProvider);
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(mud => mud.PopoverOptions.CheckForPopoverProvider = false);
        wizard.RegisterIn(ctx.Services);
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<SetupOperations>()); // long actions run in the portal host
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<TimeProvider>());
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    public async Task<(ClaimsPrincipal Operator, ClaimsPrincipal Viewer)> UsersAsync(string prefix)
    {
        await factory.CreateUserAsync(prefix + "-op", PortalRoles.Operator);
        await factory.CreateUserAsync(prefix + "-viewer", PortalRoles.Viewer);
        return (await factory.PrincipalForAsync(prefix + "-op"), await factory.PrincipalForAsync(prefix + "-viewer"));
    }

    public static async Task<string> KeyPemAsync(SetupSlices wizard, ClaimsPrincipal op, int setupId, int deviceId)
    {
        var key = await wizard.DeviceDownloads.DownloadDeviceFileAsync(op, setupId, deviceId, DeviceFileKind.Key);
        Assert.True(key.Succeeded, key.Error?.Message);
        return Encoding.ASCII.GetString(key.Value!.Content);
    }
}
