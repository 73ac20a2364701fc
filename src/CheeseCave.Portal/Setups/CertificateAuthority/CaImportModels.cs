using System.Globalization;
using System.Text;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>
/// An existing CA to import in step 5. <see cref="Certificate"/> is PEM, DER, bare base64 or a PFX; a PEM file may hold
/// the CA first and its issuer chain after it. The key may come with the certificate (PFX, or a key block in the PEM)
/// or separately as <see cref="PrivateKeyPem"/> (PKCS#8, encrypted PKCS#8 with <see cref="KeyPassphrase"/>, SEC1 or
/// PKCS#1). <see cref="Chain"/> is an optional bundle of issuing CAs for an intermediate.
/// </summary>
public sealed record CaImportRequest(byte[] Certificate)
{
    /// <summary>The PFX password.</summary>
    public string? Password { get; init; }

    public byte[]? PrivateKeyPem { get; init; }

    public string? KeyPassphrase { get; init; }

    public byte[]? Chain { get; init; }
}

/// <summary>The imported CA and what the linter found (shown as warnings; nothing here blocked the import).</summary>
public sealed record CaImportResult(SetupCertificateView Certificate, IReadOnlyList<string> Warnings);

/// <summary>Size limits for what the browser sends: files via InputFile, pasted text via a bound text area.</summary>
public static class CaImportLimits
{
    /// <summary>InputFile's default; certificates, bundles and PFX files are far smaller.</summary>
    public const int MaxFileBytes = 512 * 1024;

    /// <summary>Larger pastes into a bound text area exceed the circuit's message size and end the session.</summary>
    public const int MaxPasteChars = 30 * 1024;

    public static string TooLarge(string what, long size) =>
        $"The {what} is {size.ToString("N0", CultureInfo.InvariantCulture)} bytes; the limit is {MaxFileBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes. A certificate, chain or key file is a few kilobytes: check that you picked the right file.";

    public static string PasteTooLarge(int length) =>
        $"The pasted text is {length.ToString("N0", CultureInfo.InvariantCulture)} characters; pasting is limited to {MaxPasteChars.ToString("N0", CultureInfo.InvariantCulture)}. Choose the file instead.";
}
