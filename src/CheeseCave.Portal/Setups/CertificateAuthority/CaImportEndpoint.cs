using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Mvc;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>
/// The CA import as a real form POST (multipart, antiforgery-checked), not through the circuit: the CA's private key,
/// its passphrase and the PFX password go from the browser to this endpoint only, and are never circuit state. The
/// outcome waits in <see cref="CaImportOutcomes"/> under a random token for the step 5 page the user is sent back to.
/// </summary>
public static class CaImportEndpoint
{
    public const string FieldCertificate = "certificate";
    public const string FieldCertificateText = "certificateText";
    public const string FieldPassword = "password";
    public const string FieldKey = "key";
    public const string FieldKeyText = "keyText";
    public const string FieldKeyPassphrase = "keyPassphrase";
    public const string FieldChain = "chain";
    public const string FieldChainText = "chainText";

    /// <summary>Three files at the limit plus the text fields; larger requests are cut off before they are read.</summary>
    private const long MaxRequestBytes = 4L * CaImportLimits.MaxFileBytes;

    public static string PathFor(int setupId) => $"setups/{setupId}/ca/import";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/setups/{setupId:int}/ca/import", HandleAsync)
            .RequireAuthorization(PortalPolicies.RequireViewer) // the service checks Operator again and audits a refusal
            .WithMetadata(new RequestSizeLimitAttribute(MaxRequestBytes), new RequestFormLimitsAttribute
            {
                MultipartBodyLengthLimit = MaxRequestBytes,
                // Keep every part in memory: above the default 64 KB threshold a file part (a key, a PFX) would be
                // buffered to a plaintext temporary file on disk.
                MemoryBufferThreshold = (int)MaxRequestBytes,
            });

    private static async Task<IResult> HandleAsync(int setupId, HttpContext context, IFormCollection form, CaImportHandler importer, CaImportOutcomes outcomes)
    {
        var cancellationToken = context.RequestAborted;
        byte[]? key = null;
        PortalResult<CaImportResult> result;
        try
        {
            var certificate = await ReadAsync(form, FieldCertificate, FieldCertificateText, "certificate file", cancellationToken).ConfigureAwait(false);
            (key, var keyProblem) = await ReadAsync(form, FieldKey, FieldKeyText, "key file", cancellationToken).ConfigureAwait(false);
            var chain = await ReadAsync(form, FieldChain, FieldChainText, "chain file", cancellationToken).ConfigureAwait(false);
            var problem = certificate.Problem ?? keyProblem ?? chain.Problem;
            if (problem is not null)
            {
                result = PortalResult.Fail<CaImportResult>(new PortalError(problem, "Choose the file instead of pasting, or check that it is the right file."));
            }
            else if (certificate.Bytes is null)
            {
                result = PortalResult.Fail<CaImportResult>(new PortalError("No CA certificate was given.", "Choose the CA certificate file (PEM, .cer or .pfx) or paste its PEM text."));
            }
            else
            {
                result = await importer.ImportCaAsync(context.User, setupId, new CaImportRequest(certificate.Bytes)
                {
                    Password = form[FieldPassword].ToString(),
                    PrivateKeyPem = key,
                    KeyPassphrase = form[FieldKeyPassphrase].ToString(),
                    Chain = chain.Bytes,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        var token = outcomes.Put(context.User.Identity?.Name ?? "", setupId, result);
        return Results.LocalRedirect($"/setups/{setupId}/ca?import={token}");
    }

    internal static async Task<(byte[]? Bytes, string? Problem)> ReadAsync(IFormCollection form, string fileField, string textField, string what, CancellationToken cancellationToken)
    {
        if (form.Files.GetFile(fileField) is { Length: > 0 } file)
        {
            if (file.Length > CaImportLimits.MaxFileBytes)
            {
                return (null, CaImportLimits.TooLarge(what, file.Length));
            }

            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return (buffer.ToArray(), null);
        }

        var text = form[textField].ToString();
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        return text.Length > CaImportLimits.MaxPasteChars ? (null, CaImportLimits.PasteTooLarge(text.Length)) : (Encoding.UTF8.GetBytes(text), null);
    }
}

/// <summary>Import outcomes waiting for the page the user is sent back to; each is visible to its user only, for ten minutes.</summary>
public sealed class CaImportOutcomes(TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public string Put(string user, int setupId, PortalResult<CaImportResult> result)
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

    /// <summary>The outcome for this user and setup, or null. Not removed: prerendering and the interactive render both read it.</summary>
    public PortalResult<CaImportResult>? Find(string? token, string user, int setupId) =>
        token is not null && _entries.TryGetValue(token, out var entry) && entry.User == user && entry.SetupId == setupId
            && time.GetUtcNow() - entry.At <= Lifetime ? entry.Result : null;

    private sealed record Entry(string User, int SetupId, DateTimeOffset At, PortalResult<CaImportResult> Result);
}
