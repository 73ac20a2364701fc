using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// DPS CA certificates and proof of possession: upload, read, list, delete, verification code and verify, each
/// write with the etag read just before.
/// </summary>
internal sealed class DpsCertificateOperations(ArmRequests requests)
{
    /// <summary>
    /// Uploads a CA certificate (public part only) to a DPS, or replaces the one with that name (with its current
    /// etag). <paramref name="isVerified"/> true skips proof of possession; prefer verifying.
    /// </summary>
    public async Task<DpsCertificateInfo> UploadCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, X509Certificate2 certificate, bool isVerified = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var path = await requests.CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var body = new JsonObject { ["certificate"] = Convert.ToBase64String(certificate.RawData), ["isVerified"] = isVerified };
        var action = $"upload certificate '{certificateName}' to DPS '{provisioningServiceName}'";
        return await requests.WithFreshEtagAsync(path, action, allowMissing: true, async etag =>
        {
            using var document = await requests.SendAsync(RequestMethod.Put, path, ArmApiVersions.ProvisioningServices, body, etag, action, false, cancellationToken).ConfigureAwait(false);
            return ArmJson.Certificate(document!.RootElement);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The certificate, or null when it does not exist.</summary>
    public async Task<DpsCertificateInfo?> GetCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default)
    {
        var path = await requests.CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        using var document = await requests.SendAsync(RequestMethod.Get, path, ArmApiVersions.ProvisioningServices, null, null,
            $"read certificate '{certificateName}' of DPS '{provisioningServiceName}'", true, cancellationToken).ConfigureAwait(false);
        return document is null ? null : ArmJson.Certificate(document.RootElement);
    }

    public async Task<IReadOnlyList<DpsCertificateInfo>> ListCertificatesAsync(string resourceGroup, string provisioningServiceName, CancellationToken cancellationToken = default)
    {
        var id = await requests.ProvisioningServiceIdAsync(resourceGroup, provisioningServiceName, cancellationToken).ConfigureAwait(false);
        var items = await requests.ListAsync($"{id}/certificates", ArmApiVersions.ProvisioningServices, $"list the certificates of DPS '{provisioningServiceName}'", cancellationToken).ConfigureAwait(false);
        return items.Select(ArmJson.Certificate).ToList();
    }

    /// <summary>Deletes a certificate (its etag is read first); returns false when it did not exist.</summary>
    public async Task<bool> DeleteCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default)
    {
        var path = await requests.CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var action = $"delete certificate '{certificateName}' of DPS '{provisioningServiceName}'";
        return await requests.WithFreshEtagAsync(path, action, allowMissing: true, async etag =>
        {
            if (etag is null) return false;
            using var _ = await requests.SendAsync(RequestMethod.Delete, path, ArmApiVersions.ProvisioningServices, null, etag, action, false, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Generates a proof-of-possession code for a certificate (with the etag read just before). Issue a certificate
    /// with this code as its CN, signed by the CA's key, and pass it to <see cref="VerifyCertificateAsync"/>.
    /// </summary>
    public async Task<DpsVerificationCode> GenerateVerificationCodeAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default)
    {
        var path = await requests.CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var action = $"generate a verification code for certificate '{certificateName}' of DPS '{provisioningServiceName}'";
        return await requests.WithFreshEtagAsync(path, action, allowMissing: false, async etag =>
        {
            using var document = await requests.SendAsync(RequestMethod.Post, $"{path}/generateVerificationCode", ArmApiVersions.ProvisioningServices, null, etag, action, false, cancellationToken).ConfigureAwait(false);
            var root = document!.RootElement;
            var properties = ArmJson.Prop(root, "properties") ?? default;
            var code = ArmJson.Str(properties, "verificationCode")
                ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 200, $"Could not {action}: the answer has no verification code."));
            return new DpsVerificationCode(code, ArmJson.Certificate(root));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes proof of possession with a certificate whose CN is the current verification code, signed by the CA.
    /// The etag is read just before; if the certificate changed in between, it is read again and verification repeated once.
    /// </summary>
    public async Task<DpsCertificateInfo> VerifyCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, X509Certificate2 verificationCertificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verificationCertificate);
        var path = await requests.CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var action = $"verify certificate '{certificateName}' of DPS '{provisioningServiceName}'";
        var body = new JsonObject { ["certificate"] = Convert.ToBase64String(verificationCertificate.RawData) };
        return await requests.WithFreshEtagAsync(path, action, allowMissing: false, async etag =>
        {
            using var document = await requests.SendAsync(RequestMethod.Post, $"{path}/verify", ArmApiVersions.ProvisioningServices, body, etag, action, false, cancellationToken).ConfigureAwait(false);
            return ArmJson.Certificate(document!.RootElement);
        }, cancellationToken, attempts: 2).ConfigureAwait(false);
    }
}
