using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>One problem in plain words and what to do about it.</summary>
public sealed record CaPolicyProblem(string Message, string WhatToDo);

/// <summary>
/// What makes a certificate usable as a CA here: the one definition of each rule, used by the portal's import, the
/// CLI when it loads a CA, the linter and <see cref="CaCredential"/>. Each caller words its refusal its own way, so
/// the rules are also exposed as internal predicates; the portal's wording lives in the public checks.
/// </summary>
public static class CaImportPolicy
{
    public const int MinimumRsaKeyBits = 2048;

    /// <summary>More issuers than this is a broken or looping bundle, not a real PKI.</summary>
    private const int MaximumIssuerPathLength = 8;

    /// <summary>
    /// CA:true, keyCertSign (when key usage present), within validity at <paramref name="now"/>, RSA &gt;= 2048.
    /// <paramref name="what"/> is how the message names it, e.g. "The CA certificate" / "The root".
    /// </summary>
    public static CaPolicyProblem? CheckCa(X509Certificate2 certificate, string what, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!IsCa(certificate))
        {
            return new CaPolicyProblem($"{what} ('{certificate.Subject}') is not a CA: its basic constraints do not say CA:true, so it cannot sign device certificates.",
                "Import the CA certificate that issues your device certificates, not a device (leaf) certificate.");
        }

        if (!MaySignCertificates(certificate))
        {
            return new CaPolicyProblem($"{what} ('{certificate.Subject}') is marked as a CA, but its key usage does not allow signing certificates (keyCertSign).",
                "Re-issue the CA with keyUsage keyCertSign (and cRLSign), then import it again.");
        }

        if (IsNotYetValid(certificate, now))
        {
            return new CaPolicyProblem(string.Create(CultureInfo.InvariantCulture, $"{what} ('{certificate.Subject}') is not valid yet: it starts on {NotBefore(certificate):yyyy-MM-dd HH:mm} UTC."),
                "Check the clock of the machine that made it, or wait until then.");
        }

        if (IsExpired(certificate, now))
        {
            return new CaPolicyProblem(string.Create(CultureInfo.InvariantCulture, $"{what} ('{certificate.Subject}') expired on {NotAfter(certificate):yyyy-MM-dd HH:mm} UTC."),
                "Renew the CA (a new certificate for its key, or a new CA) and import that.");
        }

        if (WeakRsaKeyBits(certificate) is { } bits)
        {
            return new CaPolicyProblem(string.Create(CultureInfo.InvariantCulture, $"{what} ('{certificate.Subject}') has a {bits}-bit RSA key; at least {MinimumRsaKeyBits} bits are required."),
                "Make a new CA with RSA 2048 or more (or ECDSA P-256) and import that.");
        }

        return null;
    }

    /// <summary>null when key is null or matches the certificate.</summary>
    public static CaPolicyProblem? CheckKeyMatches(PrivateKey? key, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return key is null || KeyMatches(key.PublicKey, certificate) ? null
            : new CaPolicyProblem($"The private key does not belong to '{certificate.Subject}': its public half is not the certificate's.",
                "Give the key file that was made together with this CA certificate.");
    }

    /// <summary>
    /// The path from <paramref name="ca"/> up to a self-signed root (ca first), each step checked by signature; null and
    /// a problem when an issuer is missing or the path grows past eight issuers.
    /// </summary>
    public static IReadOnlyList<X509Certificate2>? BuildIssuerPath(X509Certificate2 ca, IReadOnlyList<X509Certificate2> candidates, out CaPolicyProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(candidates);
        problem = null;
        var path = new List<X509Certificate2> { ca };
        var current = ca;
        while (!SignatureVerifier.IsSelfSigned(current))
        {
            // Matched by signature, not by name alone: another CA with the same name must not complete the path.
            var issuer = candidates.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData)
                && !path.Any(p => p.RawData.AsSpan().SequenceEqual(c.RawData)) && SignatureVerifier.IsSignedBy(current, c));
            if (issuer is null)
            {
                problem = current == ca
                    ? new CaPolicyProblem($"'{ca.Subject}' is an intermediate CA issued by '{ca.Issuer}', but that issuer is not among the certificates given or in this setup.",
                        "Add the issuing CA certificates up to the self-signed root: in the same PEM file after the CA, or as a chain file.")
                    : new CaPolicyProblem($"The chain stops at '{current.Subject}': its issuer '{current.Issuer}' is missing.",
                        "Add every issuing CA certificate up to the self-signed root to the chain.");
                return null;
            }

            if (path.Count > MaximumIssuerPathLength)
            {
                problem = new CaPolicyProblem("The chain is longer than eight certificates.", "Check the chain bundle.");
                return null;
            }

            path.Add(issuer);
            current = issuer;
        }

        return path;
    }

    /// <summary>Basic constraints say CA:true.</summary>
    internal static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault()?.CertificateAuthority ?? false;

    /// <summary>No key usage (anything goes), or one that includes keyCertSign.</summary>
    internal static bool MaySignCertificates(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is not { } usage
        || usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign);

    internal static DateTimeOffset NotBefore(X509Certificate2 certificate) => new(certificate.NotBefore.ToUniversalTime());

    internal static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime());

    internal static bool IsNotYetValid(X509Certificate2 certificate, DateTimeOffset now) => now < NotBefore(certificate);

    internal static bool IsExpired(X509Certificate2 certificate, DateTimeOffset now) => now > NotAfter(certificate);

    /// <summary>The RSA key size when it is below <see cref="MinimumRsaKeyBits"/>; null for strong RSA and for other key types.</summary>
    internal static int? WeakRsaKeyBits(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null && rsa.KeySize < MinimumRsaKeyBits ? rsa.KeySize : null;
    }

    /// <summary>The key's public half is the certificate's (compared as SubjectPublicKeyInfo).</summary>
    internal static bool KeyMatches(System.Security.Cryptography.X509Certificates.PublicKey publicKey, X509Certificate2 certificate) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(publicKey.ExportSubjectPublicKeyInfo());
}
