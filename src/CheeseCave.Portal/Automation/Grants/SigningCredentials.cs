using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// The signing CA of each setup, opened from the protected key store once and kept for a bounded time
/// (<see cref="AutomationOptions.SigningKeyCacheFor"/>), so a factory line's thousands of CSRs do not each decrypt the
/// key. Which CA signs is looked up again every <see cref="RecheckAfter"/> (a CA rollover takes effect within that).
/// An evicted CA's keys are disposed, which frees and clears the key material, once the last signer using them is done.
/// </summary>
public sealed class SigningCredentials(IServiceScopeFactory scopes, IDbContextFactory<PortalDbContext> contexts, IOptionsMonitor<AutomationOptions> options, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// One open copy of the key per core: whether a software key may sign on several threads at once is not promised,
    /// so each copy signs for one request at a time, and requests wait for a free copy without blocking a thread.
    /// </summary>
    private static readonly int Signers = Math.Clamp(Environment.ProcessorCount, 1, 8);

    private readonly ConcurrentDictionary<int, SigningCa> _bySetup = new();
    private readonly SemaphoreSlim _opening = new(1, 1);

    /// <summary>A lease on the setup's signing CA (dispose it when done), or null when the setup has no CA whose key the portal holds.</summary>
    public async Task<SigningLease?> AcquireAsync(int setupId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_bySetup.TryGetValue(setupId, out var cached) && cached.CheckedAt + RecheckAfter > now && cached.OpenedAt + options.CurrentValue.SigningKeyCacheFor > now && cached.TryLease() is { } fast)
        {
            return fast;
        }

        await _opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            now = time.GetUtcNow();
            if (_bySetup.TryGetValue(setupId, out cached) && cached.CheckedAt + RecheckAfter > now && cached.OpenedAt + options.CurrentValue.SigningKeyCacheFor > now && cached.TryLease() is { } again)
            {
                return again;
            }

            await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
            var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
            var (root, issuer) = setup is null ? (null, null) : SetupCertificates.SigningCa(setup, cas);
            if (root is null || issuer is null)
            {
                Evict(setupId);
                return null;
            }

            // Same CA and key still fresh: only the "which CA signs" check is renewed.
            if (cached is not null && cached.IssuerId == issuer.Id && cached.OpenedAt + options.CurrentValue.SigningKeyCacheFor > now)
            {
                cached.CheckedAt = now;
                if (cached.TryLease() is { } renewed)
                {
                    return renewed;
                }
            }

            await using var scope = scopes.CreateAsyncScope();
            var keys = scope.ServiceProvider.GetRequiredService<IKeyStore>();
            var credentials = new List<CaCredential>();
            for (var i = 0; i < Signers; i++)
            {
                var key = await keys.OpenAsync(issuer.KeyId!, cancellationToken).ConfigureAwait(false);
                var certificate = X509Certificate2.CreateFromPem(issuer.Pem);
                credentials.Add(issuer.Id == root.Id
                    ? CaCredential.Create(certificate, key)
                    : CaCredential.Create(certificate, key, [X509Certificate2.CreateFromPem(root.Pem)]));
            }

            var fresh = new SigningCa(issuer.Id, credentials, now);
            var lease = fresh.TryLease()!;
            if (_bySetup.TryGetValue(setupId, out var old))
            {
                old.Retire();
            }

            _bySetup[setupId] = fresh;
            return lease;
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>Closes every open CA key whose time is up (called by a timer) or all of them.</summary>
    public void Sweep(bool all = false)
    {
        var now = time.GetUtcNow();
        foreach (var (setupId, ca) in _bySetup)
        {
            if (all || ca.OpenedAt + options.CurrentValue.SigningKeyCacheFor <= now)
            {
                Evict(setupId);
            }
        }
    }

    private void Evict(int setupId)
    {
        if (_bySetup.TryRemove(setupId, out var ca))
        {
            ca.Retire();
        }
    }

    public void Dispose()
    {
        Sweep(all: true);
        _opening.Dispose();
    }
}

/// <summary>One open CA (a few copies of its key): signers lease it; retiring it disposes the keys when the last lease ends.</summary>
internal sealed class SigningCa
{
    private readonly Lock _sync = new();
    private readonly IReadOnlyList<CaCredential> _credentials;
    private readonly Channel<CaCredential> _free = Channel.CreateUnbounded<CaCredential>();
    private int _leases;
    private bool _retired;

    public SigningCa(int issuerId, IReadOnlyList<CaCredential> credentials, DateTimeOffset openedAt)
    {
        IssuerId = issuerId;
        OpenedAt = openedAt;
        CheckedAt = openedAt;
        _credentials = credentials;
        foreach (var credential in credentials)
        {
            _free.Writer.TryWrite(credential);
        }
    }

    public int IssuerId { get; }

    public DateTimeOffset OpenedAt { get; }

    public DateTimeOffset CheckedAt { get; set; }

    public async Task<IssuedCertificate> SignCsrAsync(CertificateAuthority authority, CsrSigningRequest request, CancellationToken cancellationToken)
    {
        var credential = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return authority.SignCsr(request, credential);
        }
        finally
        {
            _free.Writer.TryWrite(credential);
        }
    }

    public SigningLease? TryLease()
    {
        lock (_sync)
        {
            if (_retired)
            {
                return null;
            }

            _leases++;
            return new SigningLease(this);
        }
    }

    public void Retire()
    {
        lock (_sync)
        {
            _retired = true;
            if (_leases == 0)
            {
                DisposeKeys();
            }
        }
    }

    public void Return()
    {
        lock (_sync)
        {
            if (--_leases == 0 && _retired)
            {
                DisposeKeys();
            }
        }
    }

    private void DisposeKeys()
    {
        foreach (var credential in _credentials)
        {
            credential.Dispose();
        }
    }
}

/// <summary>The right to sign with a setup's CA until disposed.</summary>
public sealed class SigningLease : IDisposable
{
    private SigningCa? _ca;

    internal SigningLease(SigningCa ca) => _ca = ca;

    public Task<IssuedCertificate> SignCsrAsync(CertificateAuthority authority, CsrSigningRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var ca = _ca ?? throw new ObjectDisposedException(nameof(SigningLease));
        return ca.SignCsrAsync(authority, request, cancellationToken);
    }

    public void Dispose() => Interlocked.Exchange(ref _ca, null)?.Return();
}
