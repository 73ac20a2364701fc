namespace CheeseCave.Pki;

/// <summary>The PEM block labels the CA reads and writes (RFC 7468), and the BEGIN/END lines built from them, in one place.</summary>
public static class PemLabels
{
    public const string Certificate = "CERTIFICATE";
    public const string CertificateRequest = "CERTIFICATE REQUEST";

    /// <summary>The label older tools (Netscape, some Windows versions) write for a CSR.</summary>
    public const string NewCertificateRequest = "NEW CERTIFICATE REQUEST";

    /// <summary>Unencrypted PKCS#8.</summary>
    public const string PrivateKey = "PRIVATE KEY";

    /// <summary>Encrypted PKCS#8: the only form the CA writes keys in by default.</summary>
    public const string EncryptedPrivateKey = "ENCRYPTED PRIVATE KEY";

    /// <summary>SEC1 (OpenSSL's traditional EC format).</summary>
    public const string EcPrivateKey = "EC PRIVATE KEY";

    /// <summary>PKCS#1 (OpenSSL's traditional RSA format, as certGen.sh writes).</summary>
    public const string RsaPrivateKey = "RSA PRIVATE KEY";

    public static IReadOnlyList<string> PrivateKeys { get; } = [PrivateKey, EncryptedPrivateKey, EcPrivateKey, RsaPrivateKey];

    public static IReadOnlyList<string> CertificateRequests { get; } = [CertificateRequest, NewCertificateRequest];

    public static string BeginLine(string label) => "-----BEGIN " + label + "-----";

    public static string EndLine(string label) => "-----END " + label + "-----";

    /// <summary>Whether <paramref name="text"/> holds a block with exactly this label.</summary>
    public static bool HasBlock(string text, string label) => text.Contains(BeginLine(label), StringComparison.Ordinal);
}
