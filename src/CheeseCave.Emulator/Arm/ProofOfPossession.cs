using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// The proof-of-possession rules of DPS certificate verification: a code must have been generated, and the
/// verification certificate must carry exactly that code as its CN, be signed by the key of the CA being verified
/// and be valid now (with five minutes of clock skew).
/// </summary>
internal static class ProofOfPossession
{
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Throws the ARM error that explains why <paramref name="verification"/> does not prove possession of <paramref name="ca"/>'s key.</summary>
    public static void Check(string code, X509Certificate2 verification, X509Certificate2 ca, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(verification);
        ArgumentNullException.ThrowIfNull(ca);
        var cn = SubjectNames.GetCommonName(verification);
        if (!string.Equals(cn, code, StringComparison.Ordinal))
        {
            throw ArmErrors.VerificationCommonNameMismatch(code, cn);
        }

        if (!SignatureVerifier.IsSignedBy(verification, ca))
        {
            var sameName = verification.IssuerName.RawData.AsSpan().SequenceEqual(ca.SubjectName.RawData);
            throw sameName
                ? ArmErrors.VerificationSignedByAnotherKey(ca.Subject)
                : ArmErrors.VerificationSignedByAnotherIssuer(verification.Issuer, ca.Subject);
        }

        var notBefore = new DateTimeOffset(verification.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(verification.NotAfter.ToUniversalTime());
        if (now < notBefore - ClockSkew || now > notAfter)
        {
            throw ArmErrors.VerificationCertificateNotValidNow(ArmRequests.Rfc1123(notBefore), ArmRequests.Rfc1123(notAfter));
        }
    }

    /// <summary>A verification needs a current code: one generated and not yet used.</summary>
    public static string RequireCode(string certificateName, string? currentCode) =>
        currentCode ?? throw ArmErrors.VerificationCodeMissing(certificateName);
}
