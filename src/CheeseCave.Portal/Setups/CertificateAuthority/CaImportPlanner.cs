using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>Where an imported CA fits in a setup, checked by the CA import rules.</summary>
public static class CaImportPlanner
{
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

    // The rules themselves live in one place for the portal, the CLI and the linter (CheeseCave.Pki.CaImportPolicy).
    private static PortalError? CheckCa(X509Certificate2 certificate, string what, DateTimeOffset now) =>
        ToError(CaImportPolicy.CheckCa(certificate, what, now));

    private static PortalError? CheckKeyMatches(PrivateKey? key, X509Certificate2 certificate) =>
        ToError(CaImportPolicy.CheckKeyMatches(key, certificate));

    private static List<X509Certificate2>? BuildIssuerPath(X509Certificate2 ca, IReadOnlyList<X509Certificate2> candidates, out PortalError? error)
    {
        var path = CaImportPolicy.BuildIssuerPath(ca, candidates, out var problem);
        error = ToError(problem);
        return path is null ? null : [.. path];
    }

    private static PortalError? ToError(CaPolicyProblem? problem) => problem is null ? null : new PortalError(problem.Message, problem.WhatToDo);

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
