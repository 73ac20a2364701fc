using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.AspNetCore.Mvc;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// The rollover's endpoints: the import of the new CA as a real form POST (multipart, antiforgery-checked, the same
/// fields as step 5's import), so keys, passphrases and PFX passwords never become circuit state; and the new CA's
/// verification code with the commands that sign it, as a text file.
/// </summary>
public static class RolloverEndpoints
{
    public const string FieldGroupMode = "groupMode";
    public const string FieldNewGroupId = "newGroupId";

    private const long MaxRequestBytes = 4L * CaImportLimits.MaxFileBytes;

    public static string ImportPathFor(int setupId) => $"setups/{setupId}/rollover/import";

    public static string VerificationPathFor(int setupId) => $"setups/{setupId}/rollover/verification-code.txt";

    public static IEndpointRouteBuilder MapCaRolloverEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/setups/{setupId:int}/rollover/import", ImportAsync)
            .RequireAuthorization(PortalPolicies.RequireViewer) // the handler checks Operator again and audits a refusal
            .WithMetadata(new RequestSizeLimitAttribute(MaxRequestBytes), new RequestFormLimitsAttribute
            {
                MultipartBodyLengthLimit = MaxRequestBytes,
                // Every part in memory: above the default threshold a key or PFX part would be buffered to a plaintext temporary file.
                MemoryBufferThreshold = (int)MaxRequestBytes,
            });
        app.MapGet("/setups/{setupId:int}/rollover/verification-code.txt", async (int setupId, HttpContext context, RolloverProof proof, CancellationToken cancellationToken) =>
        {
            var result = await proof.GetVerificationCodeAsync(context.User, setupId, cancellationToken).ConfigureAwait(false);
            return FileResults.From(result.Value is { Code: { } code } view
                ? PortalResult.Ok(new CertificateFile("verification-code.txt", "text/plain", Encoding.UTF8.GetBytes($"# DPS verification code for the new CA: {code}\n{view.Commands}")))
                : PortalResult.Fail<CertificateFile>(result.Error ?? new PortalError("There is no verification code for the new CA yet.", "Get one on the rollover page first.", Status: 404)), context);
        }).RequireAuthorization(PortalPolicies.RequireViewer);
        return app;
    }

    private static async Task<IResult> ImportAsync(int setupId, HttpContext context, IFormCollection form, RolloverImport import, RolloverImportOutcomes outcomes)
    {
        var cancellationToken = context.RequestAborted;
        byte[]? key = null;
        PortalResult<RolloverImportResult> result;
        try
        {
            var certificate = await CaImportEndpoint.ReadAsync(form, CaImportEndpoint.FieldCertificate, CaImportEndpoint.FieldCertificateText, "certificate file", cancellationToken).ConfigureAwait(false);
            (key, var keyProblem) = await CaImportEndpoint.ReadAsync(form, CaImportEndpoint.FieldKey, CaImportEndpoint.FieldKeyText, "key file", cancellationToken).ConfigureAwait(false);
            var chain = await CaImportEndpoint.ReadAsync(form, CaImportEndpoint.FieldChain, CaImportEndpoint.FieldChainText, "chain file", cancellationToken).ConfigureAwait(false);
            var problem = certificate.Problem ?? keyProblem ?? chain.Problem;
            var mode = Enum.TryParse<RolloverGroupMode>(form[FieldGroupMode].ToString(), out var parsed) ? parsed : RolloverGroupMode.SwapInGroup;
            result = problem is not null
                ? PortalResult.Fail<RolloverImportResult>(new PortalError(problem, "Choose the file instead of pasting, or check that it is the right file."))
                : certificate.Bytes is null
                    ? PortalResult.Fail<RolloverImportResult>(new PortalError("No CA certificate was given.", "Choose the new CA's certificate file (PEM, .cer or .pfx) or paste its PEM text."))
                    : await import.ImportNewCaAsync(context.User, setupId, new CaImportRequest(certificate.Bytes)
                    {
                        Password = form[CaImportEndpoint.FieldPassword].ToString(),
                        PrivateKeyPem = key,
                        KeyPassphrase = form[CaImportEndpoint.FieldKeyPassphrase].ToString(),
                        Chain = chain.Bytes,
                    }, mode, form[FieldNewGroupId].ToString(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        var token = outcomes.Put(context.User.Identity?.Name ?? "", setupId, result);
        return Results.LocalRedirect($"/setups/{setupId}/rollover?import={token}");
    }
}

/// <summary>Import outcomes waiting for the rollover page the user is sent back to; each for its user only, for ten minutes.</summary>
public sealed class RolloverImportOutcomes(TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public string Put(string user, int setupId, PortalResult<RolloverImportResult> result)
    {
        var now = time.GetUtcNow();
        foreach (var stale in _entries.Where(e => now - e.Value.At > Lifetime).Select(e => e.Key).ToList())
        {
            _entries.TryRemove(stale, out _);
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _entries[token] = new Entry(user, setupId, now, result);
        return token;
    }

    /// <summary>The outcome for this user and setup, or null (not removed: prerendering and the interactive render both read it).</summary>
    public PortalResult<RolloverImportResult>? Find(string? token, string user, int setupId) =>
        token is not null && _entries.TryGetValue(token, out var entry) && entry.User == user && entry.SetupId == setupId
            && time.GetUtcNow() - entry.At <= Lifetime ? entry.Result : null;

    private sealed record Entry(string User, int SetupId, DateTimeOffset At, PortalResult<RolloverImportResult> Result);
}
