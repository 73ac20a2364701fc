using System.Security.Claims;
using Bunit;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Setups.Operations;

/// <summary>
/// A portal whose embedded emulator answers every ARM request 400 ms late (its own fault injection), so a DPS
/// creation lasts a few seconds: long enough to close the page, open another or stop the portal in the middle.
/// </summary>
public sealed class SlowArmPortal : IAsyncDisposable
{
    public const int LatencyMs = 400;

    private readonly PortalFactory _base = new();

    public SlowArmPortal() =>
        Portal = _base.WithWebHostBuilder(b => b.UseSetting("CheeseCave:Emulator:Faults:Arm:AddedLatencyMs", LatencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public WebApplicationFactory<Program> Portal { get; }

    public IServiceProvider Services => Portal.Services;

    public SetupOperations Operations => Services.GetRequiredService<SetupOperations>();

    public async Task<ClaimsPrincipal> UserAsync(string userName, string role)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user, TestPasswords.Default)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        return await scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>().CreateUserPrincipalAsync(user);
    }

    public async Task<T> WizardAsync<T>(Func<SetupSlices, Task<T>> call)
    {
        await using var scope = Services.CreateAsyncScope();
        return await call(new SetupSlices(scope.ServiceProvider));
    }

    /// <summary>The setup row, read from the database file itself (so it also works once the portal has stopped).</summary>
    public async Task<DpsSetup> SetupRowAsync(int id)
    {
        var options = new DbContextOptionsBuilder<PortalDbContext>().UseSqlite(PortalDbContext.ConnectionStringFor(_base.DataDirectory)).Options;
        await using var db = new PortalDbContext(options);
        return await db.Setups.AsNoTracking().SingleAsync(s => s.Id == id);
    }

    public BunitContext NewContext(SetupSlices wizard)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(mud => mud.PopoverOptions.CheckForPopoverProvider = false);
        wizard.RegisterIn(ctx.Services);
        ctx.Services.AddSingleton(Operations);
        ctx.Services.AddSingleton(Services.GetRequiredService<TimeProvider>());
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    public async ValueTask DisposeAsync()
    {
        await Portal.DisposeAsync();
        await _base.DisposeAsync(); // never started; removes the data folder
    }
}
