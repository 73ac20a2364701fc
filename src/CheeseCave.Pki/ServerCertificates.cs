using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <param name="DnsNames">Host names the server answers to; the first is also the CN.</param>
/// <param name="IpAddresses">Addresses clients connect to directly.</param>
public sealed record ServerCertificateRequest(IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses) : IssuanceOptions;

public sealed partial class CertificateAuthority
{
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
}
