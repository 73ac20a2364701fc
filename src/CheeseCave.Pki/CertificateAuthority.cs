using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// Issues root, intermediate, verification, device and (for the emulator) TLS server certificates, and signs device
/// CSRs. Stateless apart from the clock: keys and certificates are handed in and out, so callers decide where they are kept.
/// </summary>
public sealed class CertificateAuthority(TimeProvider timeProvider)
{
    /// <summary>NotBefore is set this far in the past so devices with a slightly slow clock accept a new certificate.</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    /// <summary>128-bit serials; RFC 5280 asks for at most 20 octets, CA/B Forum for at least 64 random bits.</summary>
    public const int SerialNumberLength = 16;

    public CertificateAuthority()
        : this(TimeProvider.System)
    {
    }

    public IssuedCertificate CreateRoot(RootCaRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policy = IssuancePolicy.For(request.Preset);
        var subject = SubjectNames.Parse(request.Subject);
        var algorithm = request.KeyAlgorithm ?? policy.KeyAlgorithm;
        var validity = RequirePositive(request.Validity ?? request.DefaultValidity ?? policy.RootValidity, "root CA");
        var pathLength = ResolvePathLength(request.PathLength, request.UnconstrainedPathLength, policy.RootPathLength);

        var key = PrivateKey.Generate(algorithm);
        try
        {
            var serial = NewSerialNumber();
            var (notBefore, notAfter) = Window(validity);
            var req = new CertificateRequest(subject, key.PublicKey, algorithm.SignatureHash());
            ProfileExtensions.Apply(req, CertificateKind.Root, request.Preset, algorithm, pathLength, ReadOnlyMemory<byte>.Empty);
            var certificate = req.Create(subject, key.CreateSignatureGenerator(), notBefore, notAfter, serial);
            return new IssuedCertificate(CertificateKind.Root, certificate, key, [], []);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public IssuedCertificate CreateIntermediate(IntermediateCaRequest request, CaCredential issuer)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(issuer);
        var policy = IssuancePolicy.For(request.Preset);
        var subject = SubjectNames.Parse(request.Subject);
        var cn = SubjectNames.GetCommonName(subject)!;
        foreach (var above in issuer.Chain)
        {
            if (string.Equals(SubjectNames.GetCommonName(above), cn, StringComparison.OrdinalIgnoreCase))
            {
                throw new PkiException(PkiErrorCode.DuplicateName,
                    $"The intermediate's CN '{cn}' equals the CN of '{above.Subject}'. Give it a different name: chain builders such as Windows Schannel skip a CA whose name equals its issuer's.");
            }
        }

        var warnings = new List<string>();
        var issuerConstraint = issuer.BasicConstraints;
        var pathLength = ResolvePathLength(request.PathLength, request.UnconstrainedPathLength, policy.IntermediatePathLength);
        if (issuerConstraint.HasPathLengthConstraint)
        {
            if (issuerConstraint.PathLengthConstraint == 0)
            {
                throw new PkiException(PkiErrorCode.PathLengthExceeded,
                    $"'{issuer.Certificate.Subject}' has path length 0: it may sign devices, but not another CA.");
            }

            var allowed = issuerConstraint.PathLengthConstraint - 1;
            if (pathLength is null || pathLength > allowed)
            {
                if (request.PathLength is not null && request.PathLength > allowed)
                {
                    throw new PkiException(PkiErrorCode.PathLengthExceeded,
                        $"Path length {request.PathLength} is more than '{issuer.Certificate.Subject}' allows below it ({allowed}).");
                }

                pathLength = allowed;
            }
        }

        return Issue(CertificateKind.Intermediate, subject, request, policy, issuer, pathLength, warnings, null);
    }

    public IssuedCertificate CreateVerificationCertificate(VerificationCertificateRequest request, CaCredential ca)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(ca);
        var code = VerificationCodes.Require(request.VerificationCode);
        if (request.CertificateBeingVerified is { } target && !target.RawData.AsSpan().SequenceEqual(ca.Certificate.RawData))
        {
            throw new PkiException(PkiErrorCode.WrongSigner,
                $"The verification certificate must be signed by exactly the CA being verified ('{target.Subject}'), not by '{ca.Certificate.Subject}'. "
                + "DPS rejects any other signer (IH400053 Proof-Of-Possession failed).");
        }

        return IssueLeaf(CertificateKind.Verification, code, request, IssuancePolicy.For(request.Preset), ca, [], null);
    }

    public IssuedCertificate IssueDeviceCertificate(DeviceCertificateRequest request, CaCredential issuer)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(issuer);
        var check = RegistrationIds.Check(request.RegistrationId);
        if (!check.IsValid)
        {
            throw new PkiException(PkiErrorCode.InvalidRegistrationId, string.Join(" ", check.Errors));
        }

        RefuseIssuerName(request.RegistrationId, issuer);
        return IssueLeaf(CertificateKind.Device, request.RegistrationId, request, IssuancePolicy.For(request.Preset), issuer, [.. check.Warnings], null);
    }

    /// <summary>
    /// An IoT Edge device CA certificate, as certGen's create_edge_device_certificate makes it: CN "&lt;id&gt;.ca", CA:TRUE
    /// (path length 0 in the recommended preset: it signs the edge's workload certificates, never another CA), a new
    /// key, and the device validity of the preset.
    /// </summary>
    public IssuedCertificate IssueEdgeDeviceCaCertificate(EdgeDeviceCaRequest request, CaCredential issuer)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(issuer);
        var check = RegistrationIds.Check(request.DeviceId);
        if (!check.IsValid)
        {
            throw new PkiException(PkiErrorCode.InvalidRegistrationId, string.Join(" ", check.Errors));
        }

        if (issuer.BasicConstraints.HasPathLengthConstraint && issuer.BasicConstraints.PathLengthConstraint == 0)
        {
            throw new PkiException(PkiErrorCode.PathLengthExceeded,
                $"'{issuer.Certificate.Subject}' has path length 0, so it cannot sign an edge device CA. Sign it with a CA without that limit (certGen uses its intermediate, which has none).");
        }

        RefuseIssuerName(request.CommonName, issuer);
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(request.CommonName);
        var policy = IssuancePolicy.For(request.Preset);
        var options = request with { DefaultValidity = request.DefaultValidity ?? policy.DeviceValidity };
        int? pathLength = request.Preset == ProfilePreset.CertGenCompatible ? null : 0;
        return Issue(CertificateKind.EdgeDeviceCa, builder.Build(), options, policy, issuer, pathLength, [.. check.Warnings], null);
    }

    /// <summary>
    /// Signs a device's PKCS#10 request so its private key never leaves the device. Only the subject and public key
    /// are taken from the CSR; the extensions are always the device profile's, and a CSR asking to be a CA is refused.
    /// </summary>
    public IssuedCertificate SignCsr(CsrSigningRequest request, CaCredential issuer)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(issuer);
        var csr = CsrReader.Read(request.Csr, issuer.Key.Algorithm.SignatureHash());
        var cn = SubjectNames.GetCommonName(csr.SubjectName)
            ?? throw new PkiException(PkiErrorCode.InvalidRegistrationId,
                "The CSR's subject has no CN: the CN must be the device's registration ID (for example: openssl req -new -subj \"/CN=my-device-01\" ...).");

        var check = RegistrationIds.Check(cn);
        if (!check.IsValid)
        {
            throw new PkiException(PkiErrorCode.InvalidRegistrationId, $"The CSR's CN is not a valid registration ID: {string.Join(" ", check.Errors)}");
        }

        if (request.ExpectedRegistrationId is { } expected && !string.Equals(expected, cn, StringComparison.Ordinal))
        {
            throw new PkiException(PkiErrorCode.InvalidRegistrationId,
                $"The CSR's CN is '{cn}' but the registration ID is '{expected}': DPS requires the certificate CN to equal the registration ID.");
        }

        RefuseIssuerName(cn, issuer);
        // The subject is reduced to the CN, as the device profile defines it.
        return IssueLeaf(CertificateKind.Device, cn, request, IssuancePolicy.For(request.Preset), issuer, [.. check.Warnings], csr.PublicKey);
    }

    /// <summary>
    /// A TLS server certificate (serverAuth, SAN with the names and addresses) for the emulator's endpoints;
    /// 30 days by default, since the emulator issues a new one at every start.
    /// </summary>
    public IssuedCertificate IssueServerCertificate(ServerCertificateRequest request, CaCredential issuer)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(issuer);
        if (request.DnsNames.Count == 0 && request.IpAddresses.Count == 0)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "A server certificate needs at least one host name or IP address.");
        }

        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in request.DnsNames) san.AddDnsName(name);
        foreach (var address in request.IpAddresses) san.AddIpAddress(address);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(request.DnsNames.Count > 0 ? request.DnsNames[0] : request.IpAddresses[0].ToString());
        var options = request with { Validity = request.Validity ?? TimeSpan.FromDays(30) };
        return Issue(CertificateKind.Server, subject.Build(), options, IssuancePolicy.For(request.Preset), issuer, null, [], null, san.Build(critical: false));
    }

    private IssuedCertificate Issue(
        CertificateKind kind,
        X500DistinguishedName subject,
        IssuanceOptions options,
        IssuancePolicy policy,
        CaCredential issuer,
        int? pathLength,
        List<string> warnings,
        PublicKey? csrPublicKey,
        X509Extension? subjectAlternativeNames = null)
    {
        var (notBefore, notAfter) = ValidityWindow(kind, options, policy, issuer, warnings);
        PrivateKey? key = null;
        try
        {
            PublicKey publicKey;
            KeyAlgorithm subjectAlgorithm;
            if (csrPublicKey is null)
            {
                subjectAlgorithm = options.KeyAlgorithm ?? policy.KeyAlgorithm;
                key = PrivateKey.Generate(subjectAlgorithm);
                publicKey = key.PublicKey;
            }
            else
            {
                publicKey = csrPublicKey;
                subjectAlgorithm = KeyAlgorithms.FromPublicKey(csrPublicKey);
            }

            var req = new CertificateRequest(subject, publicKey, issuer.Key.Algorithm.SignatureHash());
            ProfileExtensions.Apply(req, kind, options.Preset, subjectAlgorithm, pathLength, issuer.SubjectKeyIdentifier, subjectAlternativeNames);
            var certificate = req.Create(issuer.Certificate.SubjectName, issuer.Key.CreateSignatureGenerator(), notBefore, notAfter, NewSerialNumber());
            return new IssuedCertificate(kind, certificate, key, issuer, warnings);
        }
        catch
        {
            key?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Device and verification certificates: the path bulk issuance takes thousands of times, so it encodes the
    /// certificate from the issuer's <see cref="LeafTemplate"/> (everything but CN, key, serial and dates encoded
    /// once) instead of building a CertificateRequest, and parses nothing back.
    /// </summary>
    private IssuedCertificate IssueLeaf(CertificateKind kind, string commonName, IssuanceOptions options, IssuancePolicy policy, CaCredential issuer, List<string> warnings, PublicKey? csrPublicKey)
    {
        var (notBefore, notAfter) = ValidityWindow(kind, options, policy, issuer, warnings);
        PrivateKey? key = null;
        try
        {
            byte[] subjectPublicKeyInfo;
            KeyAlgorithm subjectAlgorithm;
            if (csrPublicKey is null)
            {
                subjectAlgorithm = options.KeyAlgorithm ?? policy.KeyAlgorithm;
                key = PrivateKey.Generate(subjectAlgorithm);
                subjectPublicKeyInfo = key.ExportSubjectPublicKeyInfo();
            }
            else
            {
                subjectAlgorithm = KeyAlgorithms.FromPublicKey(csrPublicKey);
                subjectPublicKeyInfo = csrPublicKey.ExportSubjectPublicKeyInfo();
            }

            Span<byte> serial = stackalloc byte[SerialNumberLength];
            FillSerialNumber(serial);
            var der = issuer.LeafTemplateFor(kind, options.Preset, subjectAlgorithm).Issue(commonName, subjectPublicKeyInfo, notBefore, notAfter, serial);
            return new IssuedCertificate(kind, der, key, issuer, warnings,
                new LeafFacts(commonName, Convert.ToHexString(serial), Truncated(notBefore), Truncated(notAfter), subjectAlgorithm));
        }
        catch
        {
            key?.Dispose();
            throw;
        }
    }

    private (DateTimeOffset NotBefore, DateTimeOffset NotAfter) ValidityWindow(CertificateKind kind, IssuanceOptions options, IssuancePolicy policy, CaCredential issuer, List<string> warnings)
    {
        var now = timeProvider.GetUtcNow();
        var issuerNotAfter = issuer.NotAfter;
        var issuerNotBefore = issuer.NotBefore;
        if (now > issuerNotAfter)
        {
            throw new PkiException(PkiErrorCode.IssuerExpired,
                $"'{issuer.Certificate.Subject}' expired on {issuerNotAfter:yyyy-MM-dd HH:mm} UTC and can no longer sign. Create a new CA and roll it over.");
        }

        if (now < issuerNotBefore)
        {
            throw new PkiException(PkiErrorCode.IssuerExpired,
                $"'{issuer.Certificate.Subject}' is not valid before {issuerNotBefore:yyyy-MM-dd HH:mm} UTC; check this machine's clock.");
        }

        var validity = RequirePositive(options.Validity ?? options.DefaultValidity ?? policy.ValidityFor(kind), kind.ToString().ToLowerInvariant() + " certificate");
        var (notBefore, notAfter) = Window(validity);
        if (notAfter > issuerNotAfter)
        {
            // A certificate never outlives its issuer (it would stop working then anyway). Only a validity someone asked
            // for is worth a warning, and only when the cut is more than clock noise: certGen's 30-day devices under a
            // 30-day CA made a few seconds earlier end a few seconds early, which is not news.
            if (options.Validity is not null && notAfter - issuerNotAfter > Backdate)
            {
                warnings.Add($"The validity was shortened to end with the issuer '{issuer.Certificate.Subject}' on {issuerNotAfter:yyyy-MM-dd HH:mm} UTC.");
            }

            notAfter = issuerNotAfter;
        }

        return (notBefore, notAfter);
    }

    private (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Window(TimeSpan validity)
    {
        var now = timeProvider.GetUtcNow();
        now = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero); // certificates keep whole seconds
        return (now - Backdate, now + validity);
    }

    private static TimeSpan RequirePositive(TimeSpan validity, string what) =>
        validity > TimeSpan.Zero
            ? validity
            : throw new PkiException(PkiErrorCode.InvalidInput, $"The validity of the {what} must be positive (got {validity.TotalDays:0.##} days).");

    private static int? ResolvePathLength(int? requested, bool unconstrained, int? presetDefault)
    {
        if (requested is < 0)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, $"A path length cannot be negative (got {requested}).");
        }

        return unconstrained ? null : requested ?? presetDefault;
    }

    private static void RefuseIssuerName(string cn, CaCredential issuer)
    {
        foreach (var caName in issuer.ChainCommonNames)
        {
            if (string.Equals(caName, cn, StringComparison.OrdinalIgnoreCase))
            {
                throw new PkiException(PkiErrorCode.DuplicateName,
                    $"The device name '{cn}' equals the CN of the CA '{caName}'; chain building would confuse them. Choose another registration ID.");
            }
        }
    }

    /// <summary>What a certificate's validity reads back as: its time fields hold whole seconds.</summary>
    private static DateTimeOffset Truncated(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    internal static byte[] NewSerialNumber()
    {
        var serial = new byte[SerialNumberLength];
        FillSerialNumber(serial);
        return serial;
    }

    private static void FillSerialNumber(Span<byte> serial)
    {
        RandomNumberGenerator.Fill(serial);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40); // positive, and no leading zero octet to strip
    }
}
