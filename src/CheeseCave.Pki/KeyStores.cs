using System.Collections.Concurrent;

namespace CheeseCave.Pki;

/// <summary>
/// Where CA private keys live between uses. The CLI keeps encrypted PEM files; the portal keeps keys encrypted
/// with ASP.NET Core Data Protection; a hardware or cloud key store can implement the same contract by returning
/// an <see cref="ISigningKey"/> whose signature generator calls out to the device.
/// </summary>
public interface IKeyStore
{
    /// <summary>Stores a new key; refuses to replace an existing one, since a CA key may already be trusted by DPS.</summary>
    Task SaveAsync(string keyId, PrivateKey key, CancellationToken cancellationToken = default);

    Task<ISigningKey> OpenAsync(string keyId, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string keyId, CancellationToken cancellationToken = default);
}

/// <summary>Keys as encrypted PKCS#8 PEM files (<c>{keyId}.key.pem</c>, owner-only) in one folder, all under one passphrase.</summary>
public sealed class EncryptedPemFileKeyStore(string directory, string passphrase) : IKeyStore
{
    public string PathFor(string keyId)
    {
        if (string.IsNullOrWhiteSpace(keyId) || keyId.IndexOfAny(['/', '\\']) >= 0 || keyId.Contains("..", StringComparison.Ordinal))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"'{keyId}' is not a valid key name.");
        }

        return Path.Combine(directory, keyId + ".key.pem");
    }

    public async Task SaveAsync(string keyId, PrivateKey key, CancellationToken cancellationToken = default)
    {
        var path = PathFor(keyId);
        Directory.CreateDirectory(directory);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temp, options))
            await using (var writer = new StreamWriter(stream))
            {
                await writer.WriteAsync(key.ExportEncryptedPem(passphrase).AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"A key named '{keyId}' already exists in {directory}; it is never overwritten.");
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<ISigningKey> OpenAsync(string keyId, CancellationToken cancellationToken = default)
    {
        var path = PathFor(keyId);
        if (!File.Exists(path))
        {
            throw new PkiException(PkiErrorCode.UnreadableKey, $"The private key file {path} does not exist.");
        }

        var pem = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return PrivateKey.ImportPem(pem, passphrase, cancellationToken);
    }

    public Task<bool> ExistsAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(PathFor(keyId)));
}

/// <summary>Keys held in process memory as PKCS#8, for tests and short-lived tools.</summary>
public sealed class InMemoryKeyStore : IKeyStore
{
    private readonly ConcurrentDictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    public Task SaveAsync(string keyId, PrivateKey key, CancellationToken cancellationToken = default)
    {
        if (!_keys.TryAdd(keyId, key.ExportPkcs8ForProtectedStore()))
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"A key named '{keyId}' already exists; it is never overwritten.");
        }

        return Task.CompletedTask;
    }

    public Task<ISigningKey> OpenAsync(string keyId, CancellationToken cancellationToken = default) =>
        _keys.TryGetValue(keyId, out var pkcs8)
            ? Task.FromResult<ISigningKey>(PrivateKey.ImportPkcs8(pkcs8))
            : throw new PkiException(PkiErrorCode.UnreadableKey, $"There is no key named '{keyId}'.");

    public Task<bool> ExistsAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_keys.ContainsKey(keyId));
}
