using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>Where an imported CA fits in a setup, checked by the CA import rules.</summary>
public static class CaImportPlanner
{
    private const int MinimumRsaBits = 2048;

    /// <summary>
    /// The import's checks, shared by an import now, a request and applying one: the setup has room for it, the CA and
    /// every issuer above it are usable CAs, the key (if given) is the CA's, and the path fits the setup (a root, a
    /// root and one intermediate, or an intermediate the setup's root signed directly).
    /// </summary>
    public static ImportPlan? Plan(DpsSetup setup, List<SetupCertificate> existing, ImportMaterial material, DateTimeOffset now, out PortalError? error)
    {
        error = null;
        if (existing.Any(c => c.Kind == SetupCertificateKind.Intermediate))
        {
            error = new PortalError("This setup already has its root and intermediate CA.", "Use them, or create a new setup for another CA.");
            return null;
        }

        var ca = material.Certificate;
        error = CheckCa(ca, "This certificate", now) ?? CheckKeyMatches(material.Key, ca);
        if (error is not null)
        {
            return null;
        }

        var plan = new ImportPlan([.. existing.Select(c => X509Certificate2.CreateFromPem(c.Pem))]);
        try
        {
            var path = BuildIssuerPath(ca, [.. material.Chain, .. plan.ExistingCertificates], out error);
            if (path is null)
            {
                plan.Dispose();
                return null;
            }

            foreach (var issuer in path.Skip(1))
            {
                error = CheckCa(issuer, $"The issuing CA '{issuer.Subject}' in the chain", now);
                if (error is not null)
                {
                    plan.Dispose();
                    return null;
                }
            }

            var existingRoot = existing.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? existing.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);
            if (existingRoot is null && path.Count > 2)
            {
                error = new PortalError($"This CA is {path.Count - 1} levels below its root; a setup keeps a root and one intermediate.",
                    "Import the intermediate that the root signed directly, or the root itself.");
            }
            else if (existingRoot is not null)
            {
                using var rootX509 = X509Certificate2.CreateFromPem(existingRoot.Pem);
                if (path.Count != 2 || !path[1].RawData.AsSpan().SequenceEqual(rootX509.RawData))
                {
                    error = new PortalError(
                        $"This setup already has the root CA '{existingRoot.Subject}'; only an intermediate it signed directly can be added, and '{ca.Subject}' is not one.",
                        "Import that intermediate, or create a new setup for another CA.");
                }
            }

            if (error is not null)
            {
                plan.Dispose();
                return null;
            }

            plan.Path = path;
            plan.ExistingRoot = existingRoot;
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>A CA the portal can use: CA:true, allowed to sign certificates, in its validity period, strong enough.</summary>
    private static PortalError? CheckCa(X509Certificate2 certificate, string what, DateTimeOffset now)
    {
        var basic = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is not { CertificateAuthority: true })
        {
            return new PortalError($"{what} ('{certificate.Subject}') is not a CA: its basic constraints do not say CA:true, so it cannot sign device certificates.",
                "Import the CA certificate that issues your device certificates, not a device (leaf) certificate.");
        }

        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
        {
            return new PortalError($"{what} ('{certificate.Subject}') is marked as a CA, but its key usage does not allow signing certificates (keyCertSign).",
                "Re-issue the CA with keyUsage keyCertSign (and cRLSign), then import it again.");
        }

        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        if (now < notBefore)
        {
            return new PortalError($"{what} ('{certificate.Subject}') is not valid yet: it starts on {notBefore:yyyy-MM-dd HH:mm} UTC.",
                "Check the clock of the machine that made it, or wait until then.");
        }

        if (now > notAfter)
        {
            return new PortalError($"{what} ('{certificate.Subject}') expired on {notAfter:yyyy-MM-dd HH:mm} UTC.",
                "Renew the CA (a new certificate for its key, or a new CA) and import that.");
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null && rsa.KeySize < MinimumRsaBits)
        {
            return new PortalError($"{what} ('{certificate.Subject}') has a {rsa.KeySize.ToString(CultureInfo.InvariantCulture)}-bit RSA key; at least {MinimumRsaBits.ToString(CultureInfo.InvariantCulture)} bits are required.",
                "Make a new CA with RSA 2048 or more (or ECDSA P-256) and import that.");
        }

        return null;
    }

    private static PortalError? CheckKeyMatches(PrivateKey? key, X509Certificate2 certificate) =>
        key is null || key.Matches(certificate) ? null
            : new PortalError($"The private key does not belong to '{certificate.Subject}': its public half is not the certificate's.",
                "Give the key file that was made together with this CA certificate.");

    /// <summary>The path from <paramref name="ca"/> up to a self-signed root, each step checked by signature.</summary>
    private static List<X509Certificate2>? BuildIssuerPath(X509Certificate2 ca, IReadOnlyList<X509Certificate2> candidates, out PortalError? error)
    {
        error = null;
        var path = new List<X509Certificate2> { ca };
        var current = ca;
        while (!SignatureVerifier.IsSelfSigned(current))
        {
            var issuer = candidates.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData)
                && !path.Any(p => p.RawData.AsSpan().SequenceEqual(c.RawData)) && SignatureVerifier.IsSignedBy(current, c));
            if (issuer is null)
            {
                error = current == ca
                    ? new PortalError($"'{ca.Subject}' is an intermediate CA issued by '{ca.Issuer}', but that issuer is not among the certificates given or in this setup.",
                        "Add the issuing CA certificates up to the self-signed root: in the same PEM file after the CA, or as a chain file.")
                    : new PortalError($"The chain stops at '{current.Subject}': its issuer '{current.Issuer}' is missing.",
                        "Add every issuing CA certificate up to the self-signed root to the chain.");
                return null;
            }

            if (path.Count > 8)
            {
                error = new PortalError("The chain is longer than eight certificates.", "Check the chain bundle.");
                return null;
            }

            path.Add(issuer);
            current = issuer;
        }

        return path;
    }
}

/// <summary>A checked import path (the CA first, up to its self-signed root) and the setup's root, if it has one.</summary>
public sealed class ImportPlan(IReadOnlyList<X509Certificate2> existingCertificates) : IDisposable
{
    public IReadOnlyList<X509Certificate2> ExistingCertificates { get; } = existingCertificates;

    public List<X509Certificate2> Path { get; set; } = [];

    public SetupCertificate? ExistingRoot { get; set; }

    public void Dispose()
    {
        foreach (var certificate in ExistingCertificates)
        {
            certificate.Dispose();
        }
    }
}
