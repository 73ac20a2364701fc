using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>A portal with four eyes switched on (every action, one approver, 3 days), and helpers to act as its users.</summary>
public sealed class ApprovalTestPortal : IAsyncLifetime
{
    public PortalFactory Factory { get; } = new() { Approvals = true };

    public Task InitializeAsync()
    {
        _ = Factory.Services; // start the host (migrations, emulator) once for the class
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();

    /// <summary>A new user with the role, and the principal their cookie would carry.</summary>
    public async Task<ClaimsPrincipal> UserAsync(string name, string role)
    {
        await Factory.CreateUserAsync(name, role);
        return await Factory.PrincipalForAsync(name);
    }

    public async Task<T> WithWizardAsync<T>(Func<SetupSlices, Task<T>> use)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await use(new SetupSlices(scope.ServiceProvider));
    }

    public async Task<T> WithApprovalsAsync<T>(Func<ApprovalService, Task<T>> use)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<ApprovalService>());
    }

    /// <summary>Approves a waiting request and insists it was applied.</summary>
    public async Task<ApprovalView> ApproveAppliedAsync(ClaimsPrincipal approver, int requestId)
    {
        var result = await WithApprovalsAsync(a => a.ApproveAsync(approver, requestId));
        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.True(result.Value!.Status == ApprovalStatus.Applied, $"{result.Value.Status}: {result.Value.Error}");
        return result.Value;
    }

    public static int Pending<T>(PortalResult<T> result)
    {
        Assert.True(result.IsPending, result.Error?.Message ?? "applied at once instead of waiting for approval");
        Assert.Null(result.Error);
        return result.Pending!.RequestId;
    }
}
