using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Automation;

/// <summary>
/// The signing path fills the inventory row the cheap way; what it stores must be exactly what the general
/// <see cref="CertificateFacts"/> reads from the same certificate, for every key type a grant accepts.
/// </summary>
public sealed class SignedDeviceFactsTests
{
    [Fact]
    public async Task A_signed_csr_s_inventory_row_holds_the_same_facts_as_the_general_reader_for_p256_p384_and_rsa()
    {
        await using var portal = await ApiPortal.StartAsync(name: "facts");
        var grant = await portal.GrantAsync(maxCount: 5);
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "issue"));
        string[] csrs = [Ec("line3-p256", ECCurve.NamedCurves.nistP256), Ec("line3-p384", ECCurve.NamedCurves.nistP384), Rsa("line3-rsa")];
        foreach (var csr in csrs)
        {
            using var response = await client.PostAsync(new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative), new StringContent(csr, Encoding.ASCII, "application/x-pem-file"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var rows = await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.GrantId == grant.Id).OrderBy(d => d.Id).ToListAsync());
        Assert.Equal(["ECDSA P-256", "ECDSA P-384", "RSA 3072"], rows.Select(r => r.KeyType));
        foreach (var row in rows)
        {
            using var certificate = X509Certificate2.CreateFromPem(row.CertificatePem);
            var expected = new SetupDevice { ChainPem = "" };
            CertificateFacts.Fill(expected, certificate);
            Assert.Equal(
                (expected.Issuer, expected.SerialNumber, expected.KeyType, expected.ThumbprintSha1, expected.ThumbprintSha256, expected.NotBefore, expected.NotAfter, expected.CertificatePem),
                (row.Issuer, row.SerialNumber, row.KeyType, row.ThumbprintSha1, row.ThumbprintSha256, row.NotBefore, row.NotAfter, row.CertificatePem));
            Assert.StartsWith(row.CertificatePem, row.ChainPem, StringComparison.Ordinal);
            Assert.Equal(2, row.ChainPem.Split("-----BEGIN CERTIFICATE-----").Length - 1); // leaf + intermediate, no root
        }
    }

    private static string Ec(string cn, ECCurve curve)
    {
        using var key = ECDsa.Create(curve);
        return new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }

    private static string Rsa(string cn)
    {
        using var key = RSA.Create(3072);
        return new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
    }
}
