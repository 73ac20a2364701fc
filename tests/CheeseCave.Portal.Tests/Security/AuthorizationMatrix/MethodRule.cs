using System.Security.Claims;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

public sealed record MethodRule(MethodKind Kind, Access Least, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> Refused, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> Allowed, string? DeniedAudit)
{
    /// <summary>As <see cref="Sample.Owner"/>: the only caller allowed; other allowed roles get a "not yours" error.</summary>
    public Caller? Owner { get; init; }

    public static MethodRule NotAnAction { get; } = new(MethodKind.NotAnAction, Access.Public, (_, _) => Task.FromResult<object?>(null), (_, _) => Task.FromResult<object?>(null), null);

    public static MethodRule Read(Access least, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> call, string? deniedAudit = null) => new(MethodKind.Read, least, call, call, deniedAudit);

    public static MethodRule Download(Access least, string auditAction, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> call) => new(MethodKind.Download, least, call, call, auditAction);

    public static MethodRule Change(Access least, string auditAction, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> refused, Func<MatrixWorld, ClaimsPrincipal, Task<object?>> allowed) =>
        new(MethodKind.Change, least, refused, allowed, auditAction);
}
