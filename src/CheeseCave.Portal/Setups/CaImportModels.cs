using System.Globalization;
using System.Text;

namespace CheeseCave.Portal.Setups;

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

/// <summary>A verification certificate the user made elsewhere (PEM, DER or base64), for manual proof of possession.</summary>
public sealed record ManualProofRequest(byte[] VerificationCertificate);

public enum VerificationCodeState
{
    /// <summary>No code was generated for this certificate yet (or it was verified since).</summary>
    None,

    /// <summary>The stored code is still the DPS's current one.</summary>
    Current,

    /// <summary>The certificate changed on the DPS after the code was generated (a new code, or a re-upload): it no longer counts.</summary>
    Replaced,
}

/// <summary>
/// Step 7 as the page shows it: the uploaded CA's live state on the DPS, the verification code (never an etag) and
/// the equivalent openssl commands for a CA whose key the portal does not hold.
/// </summary>
public sealed record ProofView(
    int CertificateId,
    string DpsCertificateName,
    bool IsVerified,
    bool HasKey,
    VerificationCodeState CodeState,
    string? Code,
    DateTimeOffset? CodeGeneratedAt,
    string? CodeGeneratedBy,
    string? OpenSslCommands,
    bool HasVerificationCertificate);

/// <summary>The openssl commands that make a verification certificate for a code, as the page shows them.</summary>
public static class VerificationCommands
{
    public const string OutputFile = "verification.pem";

    /// <summary>
    /// A bash script: a throwaway key, a CSR with CN = the code, signed by the CA's key into verification.pem.
    /// <paramref name="caCertificateFile"/> is the name the step 5 PEM download uses.
    /// </summary>
    public static string For(string code, string caCertificateFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentException.ThrowIfNullOrWhiteSpace(caCertificateFile);
        var text = new StringBuilder();
        text.Append("# Run where the CA's private key is kept (bash; OpenSSL 1.1.1 or 3.x).\n");
        text.Append("CA_CERT=").Append(caCertificateFile).Append("    # the CA certificate (step 5: Download PEM)\n");
        text.Append("CA_KEY=ca.key.pem    # the CA's private key: change to your key file\n");
        text.Append("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out verification.key.pem\n");
        text.Append("openssl req -new -key verification.key.pem -subj \"/CN=").Append(code).Append("\" -out verification.csr.pem\n");
        text.Append("openssl x509 -req -in verification.csr.pem -CA \"$CA_CERT\" -CAkey \"$CA_KEY\" -CAcreateserial -days 30 -sha256 -out ")
            .Append(OutputFile).Append('\n');
        return text.ToString();
    }
}

/// <summary>Audit action names of the import and manual proof steps (beside <see cref="Persistence.AuditActions"/>).</summary>
public static class CaImportAuditActions
{
    public const string CaImported = "dps-setup.ca-import";
    public const string VerificationCodeGenerated = "dps-setup.ca-verification-code";
    public const string VerificationSubmitted = "dps-setup.ca-verify-manual";
    public const string VerificationDownloaded = "dps-setup.verification-download";
}
