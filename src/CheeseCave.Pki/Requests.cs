using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>Settings shared by every issuance request; unset values come from the preset's <see cref="IssuancePolicy"/>.</summary>
public abstract record IssuanceOptions
{
    public ProfilePreset Preset { get; init; } = ProfilePreset.Recommended;

    public KeyAlgorithm? KeyAlgorithm { get; init; }

    /// <summary>
    /// An explicit validity. When it would outlive the issuer it is shortened to the issuer's end and a warning says so.
    /// </summary>
    public TimeSpan? Validity { get; init; }

    /// <summary>
    /// The validity to use when <see cref="Validity"/> is not set, instead of the preset's (for example a folder's
    /// configured device days). Like the preset's, it is shortened to the issuer's end silently: nobody asked for it.
    /// </summary>
    public TimeSpan? DefaultValidity { get; init; }
}

/// <param name="Subject">A common name ("Contoso Root CA") or a distinguished name ("CN=Contoso Root CA, O=Contoso").</param>
public sealed record RootCaRequest(string Subject) : IssuanceOptions
{
    /// <summary>How many CA levels may sit below; null keeps the preset default.</summary>
    public int? PathLength { get; init; }

    /// <summary>Set to leave the path length unconstrained whatever the preset says.</summary>
    public bool UnconstrainedPathLength { get; init; }
}

public sealed record IntermediateCaRequest(string Subject) : IssuanceOptions
{
    public int? PathLength { get; init; }

    public bool UnconstrainedPathLength { get; init; }
}

/// <param name="VerificationCode">The code DPS generated for the CA certificate; it becomes the CN.</param>
public sealed record VerificationCertificateRequest(string VerificationCode) : IssuanceOptions
{
    /// <summary>The certificate uploaded to DPS. When given, the signing CA must be exactly this certificate.</summary>
    public X509Certificate2? CertificateBeingVerified { get; init; }
}

/// <param name="RegistrationId">The DPS registration ID; it becomes the CN and, for group enrollments, the IoT Hub device ID.</param>
public sealed record DeviceCertificateRequest(string RegistrationId) : IssuanceOptions;

/// <param name="DeviceId">The IoT Edge device's ID; certGen makes the certificate's CN "&lt;DeviceId&gt;.ca" so it never equals the edge's host name.</param>
public sealed record EdgeDeviceCaRequest(string DeviceId) : IssuanceOptions
{
    /// <summary>The suffix certGen appends to the device ID for the CN.</summary>
    public const string CommonNameSuffix = ".ca";

    public string CommonName => DeviceId + CommonNameSuffix;
}

/// <param name="Csr">A PKCS#10 request as PEM text or DER bytes (base64 without headers is accepted too).</param>
public sealed record CsrSigningRequest(byte[] Csr) : IssuanceOptions
{
    /// <summary>When given, the CSR's CN must equal it.</summary>
    public string? ExpectedRegistrationId { get; init; }
}

/// <param name="DnsNames">Host names the server answers to; the first is also the CN.</param>
/// <param name="IpAddresses">Addresses clients connect to directly.</param>
public sealed record ServerCertificateRequest(IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses) : IssuanceOptions;
