using System.Globalization;
using System.Text;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

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
/// the equivalent openssl commands for a CA whose key the portal does not hold. Once verified,
/// <see cref="VerifiedWithCode"/> is the code DPS issued for the proof (one click or by hand), as the Learn module shows it.
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
    bool HasVerificationCertificate,
    string? VerifiedWithCode = null);

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
