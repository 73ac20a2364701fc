using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.Samples;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// The CA import policy shared by the portal, the CLI and the linter: one table of the CAs people bring that must be
/// refused, each with its exact message and advice (the portal shows them word for word), and the good CAs next to them.
/// </summary>
public sealed class CaImportPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = new(2027, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<PolicySamples> Made = new(() => new PolicySamples(), LazyThreadSafetyMode.ExecutionAndPublication);

    private sealed record Case(Func<CaPolicyProblem?> Check, string Message, string WhatToDo);

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["leaf, not a CA"] = new(
            () => CaImportPolicy.CheckCa(Get.Chain.Device.Certificate, "The CA certificate", TestPki.FixedNow),
            "The CA certificate ('CN=device-01') is not a CA: its basic constraints do not say CA:true, so it cannot sign device certificates.",
            "Import the CA certificate that issues your device certificates, not a device (leaf) certificate."),
        ["CA without keyCertSign"] = new(
            () => CheckAtMidYear(Made.Value.NoKeyCertSign, "The root"),
            "The root ('CN=Signs Nothing CA') is marked as a CA, but its key usage does not allow signing certificates (keyCertSign).",
            "Re-issue the CA with keyUsage keyCertSign (and cRLSign), then import it again."),
        ["not yet valid"] = new(
            () => CaImportPolicy.CheckCa(Made.Value.Root, "The root", Start.AddMinutes(-1)),
            "The root ('CN=Policy Root') is not valid yet: it starts on 2026-01-01 08:00 UTC.",
            "Check the clock of the machine that made it, or wait until then."),
        ["expired"] = new(
            () => CaImportPolicy.CheckCa(Made.Value.Root, "The CA certificate", End.AddSeconds(1)),
            "The CA certificate ('CN=Policy Root') expired on 2027-01-01 08:00 UTC.",
            "Renew the CA (a new certificate for its key, or a new CA) and import that."),
        ["RSA-1024 (made by openssl)"] = new(
            () => CaImportPolicy.CheckCa(Made.Value.Rsa1024, "The root", DateTimeOffset.UtcNow),
            "The root ('CN=Weak Root') has a 1024-bit RSA key; at least 2048 bits are required.",
            "Make a new CA with RSA 2048 or more (or ECDSA P-256) and import that."),
        ["key of another certificate"] = new(
            () => CaImportPolicy.CheckKeyMatches(Get.Chain.Intermediate.Key, Get.Chain.Root.Certificate),
            "The private key does not belong to 'CN=CheeseCave Test Root': its public half is not the certificate's.",
            "Give the key file that was made together with this CA certificate."),
        ["intermediate without its issuer"] = new(
            () => IssuerPathProblem(Get.Chain.Intermediate.Certificate, []),
            "'CN=CheeseCave Test Intermediate' is an intermediate CA issued by 'CN=CheeseCave Test Root', but that issuer is not among the certificates given or in this setup.",
            "Add the issuing CA certificates up to the self-signed root: in the same PEM file after the CA, or as a chain file."),
        ["chain that stops below the root"] = new(
            () => IssuerPathProblem(Made.Value.Ladder[0], [Made.Value.Ladder[1]]),
            "The chain stops at 'CN=Policy Level 8': its issuer 'CN=Policy Level 7' is missing.",
            "Add every issuing CA certificate up to the self-signed root to the chain."),
        ["chain longer than eight"] = new(
            () => IssuerPathProblem(Made.Value.Ladder[0], Made.Value.Ladder),
            "The chain is longer than eight certificates.",
            "Check the chain bundle."),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_bad_CA_is_refused_with_the_portal_s_words(string name)
    {
        var @case = Cases[name];
        var problem = @case.Check();
        Assert.NotNull(problem);
        Assert.Equal(@case.Message, problem.Message);
        Assert.Equal(@case.WhatToDo, problem.WhatToDo);
    }

    [Fact]
    public void Good_CAs_next_to_the_bad_ones_pass()
    {
        // The rows above would pass trivially if everything failed; the same checks accept good input.
        Assert.Null(CaImportPolicy.CheckCa(Get.Chain.Root.Certificate, "The root", TestPki.FixedNow));
        Assert.Null(CaImportPolicy.CheckCa(Get.Chain.Intermediate.Certificate, "The CA certificate", TestPki.FixedNow));
        Assert.Null(CheckAtMidYear(Made.Value.Root, "The root"));
        Assert.Null(CaImportPolicy.CheckCa(Made.Value.Root, "The root", Start));
        Assert.Null(CaImportPolicy.CheckCa(Made.Value.Root, "The root", End));
        Assert.Null(CaImportPolicy.CheckCa(Made.Value.Rsa2048, "The root", DateTimeOffset.UtcNow));
        Assert.Null(CaImportPolicy.CheckKeyMatches(null, Get.Chain.Root.Certificate));
        Assert.Null(CaImportPolicy.CheckKeyMatches(Get.Chain.Root.Key, Get.Chain.Root.Certificate));
        Assert.Equal(2048, CaImportPolicy.MinimumRsaKeyBits);
    }

    [Fact]
    public void The_issuer_path_runs_from_the_CA_up_to_the_root_checked_by_signature()
    {
        var chain = Get.Chain;
        var path = CaImportPolicy.BuildIssuerPath(chain.Intermediate.Certificate, [chain.Device.Certificate, chain.Root.Certificate], out var problem);
        Assert.Null(problem);
        Assert.Equal([chain.Intermediate.Certificate, chain.Root.Certificate], path);

        var root = CaImportPolicy.BuildIssuerPath(chain.Root.Certificate, [], out problem);
        Assert.Null(problem);
        Assert.Equal([chain.Root.Certificate], root);

        // A certificate with the issuer's name but another key does not complete the path.
        var impostor = CaImportPolicy.BuildIssuerPath(Made.Value.Ladder[^2], [Made.Value.ImpostorRoot], out problem);
        Assert.Null(impostor);
        Assert.StartsWith("'CN=Policy Level 1' is an intermediate CA issued by 'CN=Policy Root'", problem!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Eight_issuers_above_the_CA_are_the_most_a_path_may_have()
    {
        // Ladder[1] has levels 8..1 and the root above it: nine certificates, one more than "eight" would be refused above.
        var ladder = Made.Value.Ladder;
        var path = CaImportPolicy.BuildIssuerPath(ladder[1], ladder, out var problem);
        Assert.Null(problem);
        Assert.Equal(ladder.Skip(1), path);
    }

    [Fact]
    public void The_linter_and_the_credential_apply_the_same_CA_rules()
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var noKeyCertSign = Made.Value.NoKeyCertSign;
        var lint = CertificateLinter.Lint([noKeyCertSign], new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start.AddMonths(6)));
        Assert.Contains(lint.Findings, f => f.Code == "no-key-cert-sign");
        Assert.Contains(CertificateLinter.Lint([Made.Value.Root], new Microsoft.Extensions.Time.Testing.FakeTimeProvider(End.AddSeconds(1))).Findings, f => f.Code == "expired");
        Assert.Contains(CertificateLinter.Lint([Made.Value.Rsa1024], TimeProvider.System).Findings, f => f.Code == "key-type" && f.Severity == FindingSeverity.Error);
        TestPki.AssertFails(PkiErrorCode.IssuerNotCa, () => CaCredential.Create(Get.Chain.Device.Certificate, Get.Chain.Device.Key!), "not a CA");
    }

    private static CaPolicyProblem? CheckAtMidYear(X509Certificate2 certificate, string what) =>
        CaImportPolicy.CheckCa(certificate, what, Start.AddMonths(6));

    private static CaPolicyProblem? IssuerPathProblem(X509Certificate2 ca, IReadOnlyList<X509Certificate2> candidates)
    {
        var path = CaImportPolicy.BuildIssuerPath(ca, candidates, out var problem);
        Assert.Null(path);
        return problem;
    }

    /// <summary>CAs the library's profiles would never issue, made here by hand (P-256, cheap) and by openssl (RSA).</summary>
    private sealed class PolicySamples
    {
        public PolicySamples()
        {
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Root = Ca("CN=Policy Root", rootKey, null, null, X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign);
            using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            ImpostorRoot = Ca("CN=Policy Root", otherKey, null, null, X509KeyUsageFlags.KeyCertSign);
            using var lonelyKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            NoKeyCertSign = Ca("CN=Signs Nothing CA", lonelyKey, null, null, X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.CrlSign);

            // Root <- Level 1 <- ... <- Level 9, listed bottom first: Level 9 has nine issuers above it.
            var levels = new List<X509Certificate2>();
            var issuer = Root;
            var issuerKey = rootKey;
            var keys = new List<ECDsa>();
            for (var level = 1; level <= 9; level++)
            {
                var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                keys.Add(key);
                issuer = Ca($"CN=Policy Level {level}", key, issuer, issuerKey, X509KeyUsageFlags.KeyCertSign);
                issuerKey = key;
                levels.Insert(0, issuer);
            }

            keys.ForEach(k => k.Dispose());
            Ladder = [.. levels, Root];

            using var temp = new TempFolder();
            Rsa1024 = OpenSslRoot(temp, "weak", "Weak Root", "rsa:1024");
            Rsa2048 = OpenSslRoot(temp, "strong", "Strong Root", "rsa:2048");
        }

        public X509Certificate2 Root { get; }

        public X509Certificate2 ImpostorRoot { get; }

        public X509Certificate2 NoKeyCertSign { get; }

        /// <summary>Level 9 first, up to the root last.</summary>
        public IReadOnlyList<X509Certificate2> Ladder { get; }

        public X509Certificate2 Rsa1024 { get; }

        public X509Certificate2 Rsa2048 { get; }

        private static X509Certificate2 Ca(string subject, ECDsa key, X509Certificate2? issuer, ECDsa? issuerKey, X509KeyUsageFlags usage)
        {
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            if (issuer is null)
            {
                using var selfSigned = request.CreateSelfSigned(Start, End);
                return X509CertificateLoader.LoadCertificate(selfSigned.RawData);
            }

            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F;
            return request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey!), Start, End, serial);
        }

        /// <summary>A self-signed RSA root by the system openssl, an independent maker of the keys people bring.</summary>
        private static X509Certificate2 OpenSslRoot(TempFolder temp, string name, string commonName, string newKey)
        {
            var config = temp.Write(name + ".cnf", $"""
                [req]
                distinguished_name = dn
                x509_extensions = ca
                prompt = no
                [dn]
                CN = {commonName}
                [ca]
                basicConstraints = critical, CA:TRUE
                keyUsage = critical, keyCertSign, cRLSign
                subjectKeyIdentifier = hash
                """);
            OpenSsl.Run(temp.Path, "req", "-x509", "-config", config, "-newkey", newKey, "-nodes", "-keyout", name + ".key",
                "-out", name + ".pem", "-days", "30", "-sha256");
            return X509Certificate2.CreateFromPem(temp.Read(name + ".pem"));
        }
    }
}
