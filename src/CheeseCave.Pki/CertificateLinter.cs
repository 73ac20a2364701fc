using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

public enum FindingSeverity
{
    Info,
    Warning,
    Error,
}

/// <param name="Code">Stable identifier such as "leaf-is-ca", for tests and documentation.</param>
public sealed record LintFinding(FindingSeverity Severity, string Code, string? Subject, string Message)
{
    public override string ToString() => $"{Severity.ToString().ToUpperInvariant()}: {Message}";
}

public sealed record LintReport(
    IReadOnlyList<LintFinding> Findings,
    IReadOnlyList<X509Certificate2> OrderedChain,
    IReadOnlyList<X509Certificate2> DeviceMustSend,
    bool IsCaBundle)
{
    public bool HasErrors => Findings.Any(f => f.Severity == FindingSeverity.Error);
}

/// <summary>
/// Checks a certificate or chain for DPS readiness (CA flags, key usage, expiry, CN rules, chain order, what a
/// device must send) and explains each problem in plain words.
/// </summary>
public static class CertificateLinter
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private static readonly TimeSpan ExpirySoon = TimeSpan.FromDays(30);

    public static LintReport Lint(IReadOnlyList<X509Certificate2> certificates, TimeProvider? time = null, string? expectedRegistrationId = null)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var findings = new List<LintFinding>();
        if (certificates.Count == 0)
        {
            findings.Add(new(FindingSeverity.Error, "empty", null, "There is no certificate to check."));
            return new LintReport(findings, [], [], false);
        }

        var chain = BuildChain(certificates);
        CheckOrder(certificates, chain, findings);
        foreach (var stray in certificates.Where(c => !chain.Contains(c)))
        {
            findings.Add(new(FindingSeverity.Warning, "not-in-chain", stray.Subject,
                $"'{stray.Subject}' is not part of the chain that starts at '{chain[0].Subject}'; remove it from the bundle."));
        }

        var leaf = chain[0];
        // With an expected registration ID the caller says this is a device's chain: a CA leaf is then a mistake, not a CA bundle.
        var isCaBundle = IsCa(leaf) && expectedRegistrationId is null;
        for (var i = 0; i < chain.Count; i++)
        {
            var certificate = chain[i];
            var issuer = i + 1 < chain.Count ? chain[i + 1] : null;
            CheckCommon(certificate, now, findings);
            if (i == 0 && !isCaBundle)
            {
                CheckDevice(certificate, expectedRegistrationId, findings);
            }
            else
            {
                CheckCa(certificate, caLevelsBelow: i == 0 ? 0 : isCaBundle ? i : i - 1, findings);
            }

            if (issuer is not null)
            {
                CheckPair(certificate, issuer, findings);
            }
        }

        var top = chain[^1];
        var topSelfSigned = SignatureVerifier.IsSelfSigned(top);
        if (!topSelfSigned)
        {
            findings.Add(new(FindingSeverity.Info, "issuer-not-included", top.Subject,
                $"'{top.Subject}' was issued by '{top.Issuer}', which is not in this file. If that issuer is an intermediate, the device must send it too, unless it is itself uploaded and verified in DPS."));
        }

        var mustSend = isCaBundle ? Array.Empty<X509Certificate2>() : chain.Where(c => !SignatureVerifier.IsSelfSigned(c)).ToArray();
        if (!isCaBundle)
        {
            if (chain.Count == 1 && topSelfSigned)
            {
                findings.Add(new(FindingSeverity.Warning, "self-signed-device", leaf.Subject,
                    "This device certificate is self-signed. It can only be used with an individual enrollment (by thumbprint); an X.509 enrollment group needs a certificate issued by a CA."));
            }
            else
            {
                var names = string.Join(", then ", mustSend.Select(c => $"'{SubjectNames.GetCommonName(c) ?? c.Subject}'"));
                findings.Add(new(FindingSeverity.Info, "device-must-send", leaf.Subject,
                    $"In its TLS handshake the device must send {names}" + (topSelfSigned ? $"; the root '{SubjectNames.GetCommonName(top)}' need not be sent." : ".")
                    + " DPS walks this chain up to a verified CA; a device that sends only its leaf gets 401002 'CA certificate not found' when the group uses a root above an intermediate."));
            }
        }

        return new LintReport(findings, chain, mustSend, isCaBundle);
    }

    private static List<X509Certificate2> BuildChain(IReadOnlyList<X509Certificate2> certificates)
    {
        // The leaf is the certificate that signs none of the others; prefer a non-CA one.
        var candidates = certificates.Where(c => !certificates.Any(o => !ReferenceEquals(o, c) && !SignatureVerifier.IsSelfSigned(o) && SignatureVerifier.IsSignedBy(o, c) && !SameCert(o, c))).ToList();
        var leaf = candidates.FirstOrDefault(c => !IsCa(c)) ?? candidates.FirstOrDefault() ?? certificates[0];
        var chain = new List<X509Certificate2> { leaf };
        var current = leaf;
        while (!SignatureVerifier.IsSelfSigned(current))
        {
            var parent = certificates.FirstOrDefault(c => !chain.Contains(c) && SignatureVerifier.IsSignedBy(current, c));
            if (parent is null) break;
            chain.Add(parent);
            current = parent;
        }

        return chain;
    }

    private static void CheckOrder(IReadOnlyList<X509Certificate2> given, List<X509Certificate2> chain, List<LintFinding> findings)
    {
        var givenInChain = given.Where(chain.Contains).ToList();
        if (!givenInChain.SequenceEqual(chain))
        {
            findings.Add(new(FindingSeverity.Warning, "chain-order", null,
                "The certificates are out of order. A chain file must start with the leaf, followed by the certificate that signed it, and so on up: "
                + string.Join(" -> ", chain.Select(c => $"'{SubjectNames.GetCommonName(c) ?? c.Subject}'")) + ". Some TLS stacks reject other orders."));
        }
    }

    private static void CheckCommon(X509Certificate2 c, DateTimeOffset now, List<LintFinding> findings)
    {
        // Validity is the CA import rule (CaImportPolicy), applied here to every certificate in the chain.
        var notAfter = CaImportPolicy.NotAfter(c);
        var notBefore = CaImportPolicy.NotBefore(c);
        if (CaImportPolicy.IsExpired(c, now))
        {
            findings.Add(new(FindingSeverity.Error, "expired", c.Subject, $"'{c.Subject}' expired on {notAfter:yyyy-MM-dd HH:mm} UTC."));
        }
        else if (CaImportPolicy.IsNotYetValid(c, now))
        {
            findings.Add(new(FindingSeverity.Error, "not-yet-valid", c.Subject, $"'{c.Subject}' is not valid before {notBefore:yyyy-MM-dd HH:mm} UTC; check the clocks."));
        }
        else if (notAfter - now < ExpirySoon)
        {
            findings.Add(new(FindingSeverity.Warning, "expires-soon", c.Subject,
                $"'{c.Subject}' expires in {(notAfter - now).TotalDays:0} days ({notAfter:yyyy-MM-dd} UTC). certGen.sh issues 30-day certificates; plan a renewal."));
        }

        if (c.Version < 3)
        {
            findings.Add(new(FindingSeverity.Error, "v1-certificate", c.Subject,
                $"'{c.Subject}' is an X.509 v1 certificate without extensions (no CA flag, no key usage). DPS and TLS stacks need v3 certificates."));
        }

        var signature = c.SignatureAlgorithm.Value;
        if (signature is "1.2.840.113549.1.1.5" or "1.2.840.10045.4.1" or "1.2.840.113549.1.1.4")
        {
            findings.Add(new(FindingSeverity.Error, "weak-signature", c.Subject, $"'{c.Subject}' is signed with {c.SignatureAlgorithm.FriendlyName}, which is broken; reissue it with SHA-256."));
        }

        try
        {
            KeyAlgorithms.FromPublicKey(c.PublicKey);
        }
        catch (PkiException ex)
        {
            findings.Add(new(ex.Code == PkiErrorCode.WeakKey ? FindingSeverity.Error : FindingSeverity.Warning, "key-type", c.Subject, $"'{c.Subject}': {ex.Message}"));
        }

        if (c.SerialNumberBytes.Length < 8)
        {
            findings.Add(new(FindingSeverity.Warning, "short-serial", c.Subject,
                $"'{c.Subject}' has a {c.SerialNumberBytes.Length * 8}-bit serial number ({c.SerialNumber}); serials should carry at least 64 random bits (certGen.sh counts 01, 02, ...)."));
        }

        if (!c.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any())
        {
            findings.Add(new(FindingSeverity.Warning, "no-ski", c.Subject, $"'{c.Subject}' has no subject key identifier, which chain builders use to find issuers."));
        }

        if (!SignatureVerifier.IsSelfSigned(c) && !c.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Any())
        {
            findings.Add(new(FindingSeverity.Warning, "no-aki", c.Subject, $"'{c.Subject}' has no authority key identifier, which chain builders use to find its issuer."));
        }
    }

    private static void CheckDevice(X509Certificate2 c, string? expectedRegistrationId, List<LintFinding> findings)
    {
        if (IsCa(c))
        {
            findings.Add(new(FindingSeverity.Error, "leaf-is-ca", c.Subject,
                $"The device certificate '{c.Subject}' is a CA (basicConstraints CA:TRUE). A device needs an end-entity certificate issued by the CA, not the CA certificate itself."));
        }

        var cn = SubjectNames.GetCommonName(c);
        if (cn is null)
        {
            findings.Add(new(FindingSeverity.Error, "no-cn", c.Subject,
                $"The device certificate '{c.Subject}' has no CN. DPS takes the registration ID from the CN, so it must be there."));
        }
        else
        {
            var check = RegistrationIds.Check(cn);
            foreach (var error in check.Errors)
            {
                findings.Add(new(FindingSeverity.Error, "cn-not-registration-id", c.Subject, $"The CN is not a valid registration ID: {error}"));
            }

            foreach (var warning in check.Warnings)
            {
                findings.Add(new(FindingSeverity.Warning, "cn-upper-case", c.Subject, warning));
            }

            if (expectedRegistrationId is not null && !string.Equals(cn, expectedRegistrationId, StringComparison.Ordinal))
            {
                findings.Add(new(FindingSeverity.Error, "cn-mismatch", c.Subject,
                    $"The CN is '{cn}' but the registration ID is '{expectedRegistrationId}'; DPS requires them to be equal."));
            }
        }

        var eku = c.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (eku is null)
        {
            findings.Add(new(FindingSeverity.Warning, "no-eku", c.Subject,
                "The device certificate has no extended key usage; add clientAuth, which TLS servers may require for client certificates."));
        }
        else if (!eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ClientAuthOid))
        {
            findings.Add(new(FindingSeverity.Error, "no-client-auth", c.Subject,
                "The device certificate's extended key usage lacks clientAuth, so it cannot be used as a TLS client certificate towards DPS and IoT Hub."));
        }

        var usage = c.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            findings.Add(new(FindingSeverity.Error, "no-digital-signature", c.Subject,
                "The device certificate's key usage lacks digitalSignature, which a TLS client needs to prove it holds the key."));
        }
    }

    private static void CheckCa(X509Certificate2 c, int caLevelsBelow, List<LintFinding> findings)
    {
        // CA:true and keyCertSign are CaImportPolicy's rules; criticality and path length are linter-only advice.
        var basic = c.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is null || !CaImportPolicy.IsCa(c))
        {
            findings.Add(new(FindingSeverity.Error, "issuer-not-ca", c.Subject,
                $"'{c.Subject}' is used as a CA but has no basicConstraints CA:TRUE; chains through it are rejected."));
            return;
        }

        if (!basic.Critical)
        {
            findings.Add(new(FindingSeverity.Warning, "basic-constraints-not-critical", c.Subject, $"'{c.Subject}': basicConstraints should be critical on a CA (RFC 5280)."));
        }

        if (!CaImportPolicy.MaySignCertificates(c))
        {
            findings.Add(new(FindingSeverity.Error, "no-key-cert-sign", c.Subject, $"'{c.Subject}' is a CA whose key usage lacks keyCertSign, so its signatures on certificates are invalid."));
        }

        if (basic.HasPathLengthConstraint && basic.PathLengthConstraint < caLevelsBelow)
        {
            findings.Add(new(FindingSeverity.Error, "path-length-exceeded", c.Subject,
                $"'{c.Subject}' allows {basic.PathLengthConstraint} CA level(s) below it, but this chain has {caLevelsBelow}."));
        }
    }

    private static void CheckPair(X509Certificate2 child, X509Certificate2 issuer, List<LintFinding> findings)
    {
        if (child.NotAfter.ToUniversalTime() > issuer.NotAfter.ToUniversalTime())
        {
            findings.Add(new(FindingSeverity.Warning, "outlives-issuer", child.Subject,
                $"'{child.Subject}' is valid until {child.NotAfter.ToUniversalTime():yyyy-MM-dd}, after its issuer '{issuer.Subject}' expires ({issuer.NotAfter.ToUniversalTime():yyyy-MM-dd}); it stops working then."));
        }

        if (IsCa(child) && string.Equals(SubjectNames.GetCommonName(child), SubjectNames.GetCommonName(issuer), StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new(FindingSeverity.Warning, "same-cn-as-issuer", child.Subject,
                $"'{child.Subject}' has the same CN as its issuer; Windows Schannel skips such an intermediate. Give each CA its own name."));
        }
    }

    private static bool IsCa(X509Certificate2 c) => CaImportPolicy.IsCa(c);

    private static bool SameCert(X509Certificate2 a, X509Certificate2 b) => a.RawData.AsSpan().SequenceEqual(b.RawData);
}
