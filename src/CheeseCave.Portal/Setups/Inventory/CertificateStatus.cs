using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>Where a certificate stands today. Worst first: a revoked certificate is revoked whatever its dates say.</summary>
public enum CertificateStatus
{
    Active,

    /// <summary>Valid, and ends within <see cref="CertificateStatuses.ExpiringWindow"/>.</summary>
    Expiring,
    Expired,

    /// <summary>A device blocked in DPS and its hub.</summary>
    Revoked,

    /// <summary>A device certificate replaced by a renewal, or a retired CA.</summary>
    Superseded,
}

/// <summary>
/// The one rule that decides a certificate's <see cref="CertificateStatus"/>. It is written once, as an expression:
/// compiled for a single entity (<see cref="Of(SetupDevice, TimeProvider)"/>), and spliced into the inventory's SQL
/// (<see cref="ForDevices"/>, <see cref="ForCas"/>) so filters, sorting and paging run in SQLite and agree with it.
/// </summary>
public static class CertificateStatuses
{
    public static TimeSpan ExpiringWindow { get; } = TimeSpan.FromDays(30);

    // (revoked at, superseded or retired, not after, now, end of the expiring window) → status
    private static readonly Expression<Func<DateTimeOffset?, bool, DateTimeOffset, DateTimeOffset, DateTimeOffset, CertificateStatus>> Rule =
        (revokedAt, superseded, notAfter, now, expiringUntil) =>
            revokedAt != null ? CertificateStatus.Revoked
            : superseded ? CertificateStatus.Superseded
            : notAfter <= now ? CertificateStatus.Expired
            : notAfter <= expiringUntil ? CertificateStatus.Expiring
            : CertificateStatus.Active;

    private static readonly Func<DateTimeOffset?, bool, DateTimeOffset, DateTimeOffset, DateTimeOffset, CertificateStatus> Compiled = Rule.Compile();

    public static CertificateStatus Of(SetupDevice device, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(time);
        return Of(device, time.GetUtcNow());
    }

    public static CertificateStatus Of(SetupCertificate ca, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(time);
        return Of(ca, time.GetUtcNow());
    }

    public static CertificateStatus Of(SetupDevice device, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(device);
        return Compiled(device.RevokedAt, device.SupersededByDeviceId != null, device.NotAfter, now, now + ExpiringWindow);
    }

    /// <summary>A CA is never revoked on its own row: revoking a CA retires it, and a retired CA counts as superseded.</summary>
    public static CertificateStatus Of(SetupCertificate ca, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ca);
        return Compiled(null, ca.RetiredAt != null, ca.NotAfter, now, now + ExpiringWindow);
    }

    /// <summary>The rule over a device row, for SQL: <c>now</c> is a query parameter, not a literal (one cached plan).</summary>
    public static Expression<Func<SetupDevice, CertificateStatus>> ForDevices(DateTimeOffset now)
    {
        var device = Expression.Parameter(typeof(SetupDevice), "d");
        var body = Splice(
            Expression.Property(device, nameof(SetupDevice.RevokedAt)),
            Expression.NotEqual(Expression.Property(device, nameof(SetupDevice.SupersededByDeviceId)), Expression.Constant(null, typeof(int?))),
            Expression.Property(device, nameof(SetupDevice.NotAfter)),
            now);
        return Expression.Lambda<Func<SetupDevice, CertificateStatus>>(body, device);
    }

    public static Expression<Func<SetupCertificate, CertificateStatus>> ForCas(DateTimeOffset now)
    {
        var ca = Expression.Parameter(typeof(SetupCertificate), "c");
        var body = Splice(
            Expression.Constant(null, typeof(DateTimeOffset?)),
            Expression.NotEqual(Expression.Property(ca, nameof(SetupCertificate.RetiredAt)), Expression.Constant(null, typeof(DateTimeOffset?))),
            Expression.Property(ca, nameof(SetupCertificate.NotAfter)),
            now);
        return Expression.Lambda<Func<SetupCertificate, CertificateStatus>>(body, ca);
    }

    /// <summary><paramref name="status"/> as a filter over <paramref name="statusOf"/>.</summary>
    public static Expression<Func<T, bool>> Is<T>(Expression<Func<T, CertificateStatus>> statusOf, CertificateStatus status)
    {
        ArgumentNullException.ThrowIfNull(statusOf);
        return Expression.Lambda<Func<T, bool>>(Expression.Equal(statusOf.Body, Expression.Constant(status)), statusOf.Parameters);
    }

    private static Expression Splice(Expression revokedAt, Expression superseded, Expression notAfter, DateTimeOffset now)
    {
        // Boxed values read through a member, so EF Core sends them as parameters.
        Expression Parameter(DateTimeOffset value) => Expression.Field(Expression.Constant(new StrongBox<DateTimeOffset>(value)), nameof(StrongBox<DateTimeOffset>.Value));
        var map = new Dictionary<ParameterExpression, Expression>
        {
            [Rule.Parameters[0]] = revokedAt,
            [Rule.Parameters[1]] = superseded,
            [Rule.Parameters[2]] = notAfter,
            [Rule.Parameters[3]] = Parameter(now),
            [Rule.Parameters[4]] = Parameter(now + ExpiringWindow),
        };
        return new ParameterSwap(map).Visit(Rule.Body);
    }

    private sealed class ParameterSwap(Dictionary<ParameterExpression, Expression> map) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => map.TryGetValue(node, out var replacement) ? replacement : node;
    }
}
