using System.Text.Json;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Hosting;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>
/// What step 7 must remember across closed browsers and restarts, per setup certificate: the last verification code
/// the portal obtained (with the DPS certificate's etag then, to tell whether it is still the current one)
/// and the verification certificate that proved possession, for download. Nothing here is secret (DPS shows codes
/// and verification certificates are public), so plain JSON files in {DataDirectory}/setups/{id}/ are enough; they
/// live outside the database because the schema has no column for them.
/// </summary>
public sealed class SetupProofStore(PortalPaths paths) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<ProofRecord?> ReadAsync(int setupId, int certificateId, CancellationToken cancellationToken = default)
    {
        var path = PathFor(setupId, certificateId);
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<ProofRecord>(stream, Json, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Changes the record under a lock and replaces the file atomically, so a crash leaves the old or the new one.</summary>
    public async Task<ProofRecord> UpdateAsync(int setupId, int certificateId, Func<ProofRecord?, ProofRecord> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var updated = change(await ReadAsync(setupId, certificateId, cancellationToken).ConfigureAwait(false));
            var path = PathFor(setupId, certificateId);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            await using (var stream = File.Create(temporary))
            {
                await JsonSerializer.SerializeAsync(stream, updated, Json, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, path, overwrite: true);
            return updated;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private string PathFor(int setupId, int certificateId) =>
        Path.Combine(paths.DataDirectory, "setups", setupId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"proof-{certificateId.ToString(System.Globalization.CultureInfo.InvariantCulture)}.json");
}

/// <param name="Code">The last verification code obtained from the DPS, or null.</param>
/// <param name="DpsEtag">The DPS certificate's etag right after the code was generated: any later change (a newer code, a
/// re-upload) changes it and replaced the code. Kept on the server for that comparison only; never shown.</param>
/// <param name="VerificationPem">The verification certificate that DPS accepted, PEM (public).</param>
public sealed record ProofRecord(
    string? Code,
    string? DpsEtag,
    string? DpsThumbprint,
    DateTimeOffset? CodeGeneratedAt,
    string? CodeGeneratedBy,
    string? VerificationPem,
    DateTimeOffset? VerifiedAt);
