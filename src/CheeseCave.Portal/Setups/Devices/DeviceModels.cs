using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CheeseCave.Portal.Setups.Devices;

/// <summary>One registration id as the page shows it: errors block issuing, warnings explain a risk.</summary>
public sealed record RegistrationIdCheck(string RegistrationId, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// An issued device certificate as pages see it: public facts, until when its key can be downloaded, and by whom
/// (<see cref="KeyOwner"/>, who issued the batch; <see cref="CallerOwnsKey"/> when that is the caller).
/// </summary>
public sealed record SetupDeviceView(
    int Id,
    string RegistrationId,
    string ThumbprintSha1,
    DateTimeOffset NotAfter,
    string BatchId,
    string IssuedBy,
    DateTimeOffset IssuedAt,
    DateTimeOffset? KeyAvailableUntil,
    string? KeyOwner = null,
    bool CallerOwnsKey = false)
{
    public bool KeyAvailable => KeyAvailableUntil is not null;
}

/// <summary>What issuing returns: the devices, and the PFX password of the batch, shown once and kept nowhere.</summary>
public sealed record DeviceBatchView(string BatchId, string PfxPassword, IReadOnlyList<SetupDeviceView> Devices, DateTimeOffset KeysAvailableUntil, IReadOnlyList<string> Warnings);

/// <summary>A device file for the download endpoints.</summary>
public enum DeviceFileKind
{
    /// <summary><c>.cert.pem</c>: the leaf only.</summary>
    Certificate,

    /// <summary><c>-chain.pem</c>: leaf and intermediate(s), what the device sends.</summary>
    Chain,

    /// <summary><c>.cer</c>: the leaf as DER.</summary>
    Der,

    /// <summary><c>.pfx</c>: leaf, key and chain; password protected. Operator only.</summary>
    Pfx,

    /// <summary><c>.key.pem</c>: the private key, unencrypted PKCS#8. Operator only.</summary>
    Key,
}

public static class DeviceSettings
{
    public const string AzureGlobalEndpoint = "global.azure-devices-provisioning.net";

    /// <summary>At most this many devices per batch.</summary>
    public const int MaxBatch = 100;

    /// <summary>One id per line (blank lines and surrounding spaces ignored).</summary>
    public static IReadOnlyList<string> ParseLines(string? text) =>
        [.. (text ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];

    /// <summary>prefix-001, prefix-002, ...: zero-padded to the width of the last number.</summary>
    public static IReadOnlyList<string> Expand(string? prefix, int count, int start = 1)
    {
        if (count <= 0)
        {
            return [];
        }

        var width = Math.Max(3, (start + count - 1).ToString(CultureInfo.InvariantCulture).Length);
        return [.. Enumerable.Range(start, count).Select(n => (prefix ?? "") + n.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0'))];
    }

    public static IReadOnlyList<RegistrationIdCheck> Check(IReadOnlyList<string> ids)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var checks = new List<RegistrationIdCheck>();
        foreach (var id in ids)
        {
            var check = CheeseCave.Pki.RegistrationIds.Check(id);
            var errors = check.Errors.ToList();
            if (!seen.Add(id))
            {
                errors.Add($"'{id}' is listed twice (DPS compares registration ids case-insensitively).");
            }

            checks.Add(new RegistrationIdCheck(id, errors, check.Warnings));
        }

        return checks;
    }

    /// <summary>The cheese-cave device app's appsettings section for one device.</summary>
    /// <summary>The device settings snippet for one registration id of this setup (ID scope and endpoint from the setup).</summary>
    public static string SnippetFor(SetupView view, string registrationId)
    {
        ArgumentNullException.ThrowIfNull(view);
        return Snippet(view.DeviceHost, view.IdScope, registrationId);
    }

    public static string Snippet(string? globalEndpoint, string? idScope, string registrationId) =>
        new JsonObject
        {
            ["CheeseCaveDevice"] = new JsonObject
            {
                ["GlobalDeviceEndpoint"] = globalEndpoint ?? AzureGlobalEndpoint,
                ["IdScope"] = idScope ?? "<ID scope from step 4>",
                ["RegistrationId"] = registrationId,
                ["CertificatePath"] = $"certs/{registrationId}.pfx",
                ["CertificatePassword"] = "<the PFX password shown once when the batch was issued>",
            },
        }.ToJsonString(SnippetJson);

    // A snippet to paste, not HTML: keep "<" and ">" readable.
    private static readonly JsonSerializerOptions SnippetJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
