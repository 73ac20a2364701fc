using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>How the slices name, show and pin a setup's CA certificates.</summary>
public static class SetupCertificates
{
    public static SetupCertificate? RootOf(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return setup.Certificates.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? setup.Certificates.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);
    }

    /// <summary>
    /// The setup's current root and the CA that signs its devices: the newest intermediate below that root whose key
    /// the portal holds and that is not retired, else the root itself when the portal holds its key. After a CA
    /// rollover several generations live side by side; only the current root's generation signs.
    /// </summary>
    public static (SetupCertificate? Root, SetupCertificate? Issuer) SigningCa(DpsSetup setup, IReadOnlyCollection<SetupCertificate> cas)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(cas);
        var root = cas.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? cas.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root && c.RetiredAt is null);
        if (root is null)
        {
            return (null, null);
        }

        var intermediate = cas
            .Where(c => c.Kind == SetupCertificateKind.Intermediate && c.KeyId is not null && c.RetiredAt is null && IssuedBy(c, root))
            .OrderByDescending(c => c.CreatedAt)
            .FirstOrDefault();
        return (root, intermediate ?? (root.KeyId is not null && root.RetiredAt is null ? root : null));
    }

    private static bool IssuedBy(SetupCertificate certificate, SetupCertificate root) =>
        string.IsNullOrEmpty(certificate.Issuer) || string.Equals(certificate.Issuer, root.Subject, StringComparison.Ordinal);

    /// <summary>The CN of a subject, or the whole subject when it has none.</summary>
    public static string ShortName(string subject) =>
        subject.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("CN=", StringComparison.OrdinalIgnoreCase))?[3..] ?? subject;

    /// <summary>A file (and DPS certificate) name from the CN: letters, digits, '-' and '_' only, lower case.</summary>
    public static string FileNameFor(SetupCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
        var cn = x509.GetNameInfo(X509NameType.SimpleName, false);
        var safe = new string([.. (string.IsNullOrWhiteSpace(cn) ? certificate.Kind.ToString() : cn).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]).Trim('-');
        return string.IsNullOrEmpty(safe) ? certificate.Kind.ToString().ToLowerInvariant() : safe.ToLowerInvariant();
    }

    public static SetupCertificateView ToView(SetupCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
        return new SetupCertificateView(certificate.Id, certificate.Kind, certificate.Subject, certificate.ThumbprintSha1, certificate.ThumbprintSha256,
            certificate.NotBefore, certificate.NotAfter, certificate.KeyId is not null, certificate.DpsCertificateName, certificate.IsVerified,
            CertificateDescription.Of(x509), certificate.CreatedBy, certificate.CreatedAt);
    }

    /// <summary>The CA the approvers saw must still be the one acted on (no expectation: anything goes).</summary>
    public static PortalError? CaChanged(SetupCertificate certificate, string? expectedThumbprint)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return string.IsNullOrEmpty(expectedThumbprint) || string.Equals(certificate.ThumbprintSha1, expectedThumbprint, StringComparison.OrdinalIgnoreCase)
            ? null
            : new PortalError($"The CA changed since the request (it was SHA-1 {expectedThumbprint}, it is now {certificate.ThumbprintSha1}).", "Make a new request for the current CA.");
    }

    /// <summary>The facts approvers see about a CA.</summary>
    public static void AddFacts(List<ApprovalFact> facts, SetupCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(certificate);
        using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
        var description = CertificateDescription.Of(x509);
        facts.Add(new("Certificate", $"{certificate.Kind} CA {certificate.Subject}"));
        facts.Add(new("Key type", description.KeyDescription));
        facts.Add(new("Valid", $"{certificate.NotBefore:yyyy-MM-dd} to {certificate.NotAfter:yyyy-MM-dd}"));
        facts.Add(new("SHA-1 thumbprint", certificate.ThumbprintSha1));
        facts.Add(new("SHA-256 thumbprint", certificate.ThumbprintSha256));
    }

    /// <summary>The facts every setup request starts with.</summary>
    public static List<ApprovalFact> StartFacts(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return [new("Setup", setup.Name)];
    }

    /// <summary>"the DPS (resource group …)", or null when the setup has none.</summary>
    public static string? DpsFact(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return setup.DpsName is null ? null : $"{setup.DpsName} (resource group {setup.ResourceGroup})";
    }

    public static string Days(TimeSpan validity) => validity.TotalDays >= 365
        ? $"{validity.TotalDays / 365.25:0.#} years ({validity.TotalDays:0} days)"
        : $"{validity.TotalDays:0} days";
}
