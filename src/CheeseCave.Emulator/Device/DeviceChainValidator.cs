using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Device;

/// <summary>A device chain that reached a verified CA of the DPS.</summary>
internal sealed record DeviceChain(
    X509Certificate2 Leaf,
    IReadOnlyList<X509Certificate2> Presented,
    IReadOnlyList<X509Certificate2> Issuers,
    DpsCertificateEntity Anchor,
    X509Certificate2 AnchorCertificate);

/// <summary>
/// The X.509 rules of DPS device registration (docs/azure-wire.md §6.3, docs/user-pitfalls.md §2.1-2.5): the leaf is a
/// client certificate whose CN is the registration ID, and the chain the device sent (leaf + intermediates, in any
/// order) leads to a verified CA certificate of the DPS. Every refusal says why, with the subjects involved.
/// </summary>
internal static class DeviceChainValidator
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private const string AnyExtendedKeyUsageOid = "2.5.29.37.0";

    /// <summary>Checks the leaf alone: CN = registration ID, an end-entity usable for client authentication, in date.</summary>
    public static DeviceApiError? CheckLeaf(X509Certificate2 leaf, string registrationId, DateTimeOffset now, IReadOnlyList<X509Certificate2> presented)
    {
        var cn = SubjectNames.GetCommonName(leaf);
        if (cn is null)
        {
            return Refuse("cnMissing", $"The device certificate '{leaf.Subject}' has no CN; DPS takes the registration ID from the CN.", presented,
                "Issue the device certificate with CN=<registration ID>.", new JsonObject { ["registrationId"] = registrationId });
        }

        if (!string.Equals(cn, registrationId, StringComparison.OrdinalIgnoreCase))
        {
            return Refuse("cnMismatch", $"The registration ID '{registrationId}' does not match the device certificate's CN '{cn}'.", presented,
                "Register with the registration ID equal to the certificate's CN (compared case-insensitively), or issue a certificate with CN=<registration ID>.",
                new JsonObject { ["registrationId"] = registrationId, ["leafCommonName"] = cn });
        }

        var basic = leaf.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is { CertificateAuthority: true })
        {
            return Refuse("leafIsCa", $"The device presented '{leaf.Subject}', which is a CA certificate (basicConstraints CA:TRUE), as its own certificate.", presented,
                "Issue a device (end-entity) certificate from the CA and present that; the CA itself belongs in the DPS certificates and the enrollment group.");
        }

        var eku = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (eku is not null && !eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value is ClientAuthOid or AnyExtendedKeyUsageOid))
        {
            return Refuse("notClientAuth", $"The device certificate '{leaf.Subject}' has an extendedKeyUsage without clientAuth, so it cannot authenticate a TLS client.", presented,
                "Issue the device certificate with extendedKeyUsage clientAuth (1.3.6.1.5.5.7.3.2).");
        }

        var usage = leaf.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            return Refuse("notClientAuth", $"The device certificate '{leaf.Subject}' has a keyUsage without digitalSignature, so it cannot sign the TLS handshake.", presented,
                "Issue the device certificate with keyUsage digitalSignature.");
        }

        return CheckDates(leaf, "device certificate", now, presented);
    }

    /// <summary>Walks leaf → presented intermediates → a verified DPS certificate (which the device may omit).</summary>
    public static (DeviceChain? Chain, DeviceApiError? Error) Validate(
        X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, IReadOnlyList<DpsCertificateEntity> dpsCertificates, string dpsName, DateTimeOffset now)
    {
        var loaded = dpsCertificates.Select(e => (Entity: e, Certificate: Load(e))).ToList();
        var path = new List<X509Certificate2> { leaf };
        var current = leaf;
        (DpsCertificateEntity Entity, X509Certificate2 Certificate)? anchor = null;
        var anchorInPath = false;
        DpsCertificateEntity? unverified = null;
        while (path.Count <= 16)
        {
            if (path.Count > 1)
            {
                var uploaded = loaded.FirstOrDefault(d => d.Certificate.RawData.AsSpan().SequenceEqual(current.RawData));
                if (uploaded.Entity is not null)
                {
                    if (uploaded.Entity.IsVerified)
                    {
                        anchor = uploaded;
                        anchorInPath = true;
                        break;
                    }

                    unverified ??= uploaded.Entity;
                }
            }

            var signers = loaded.Where(d => !d.Certificate.RawData.AsSpan().SequenceEqual(current.RawData) && IsSignedBy(current, d.Certificate, current != leaf)).ToList();
            var verifiedSigner = signers.FirstOrDefault(d => d.Entity.IsVerified);
            if (verifiedSigner.Entity is not null)
            {
                anchor = verifiedSigner;
                break;
            }

            var next = presented.FirstOrDefault(c => !path.Any(p => p.RawData.AsSpan().SequenceEqual(c.RawData)) && IsSignedBy(current, c, current != leaf));
            if (next is not null)
            {
                path.Add(next);
                current = next;
                continue;
            }

            if (signers.Count > 0)
            {
                unverified ??= signers[0].Entity;
            }

            break;
        }

        var inventory = new JsonArray(loaded.Select(d => (JsonNode)$"{d.Entity.Name}: {d.Certificate.Subject} ({(d.Entity.IsVerified ? "verified" : "not verified")})").ToArray());
        if (anchor is null)
        {
            return (null, ExplainBrokenChain(path, presented, loaded, unverified, dpsName, inventory));
        }

        foreach (var certificate in path.Skip(1).Append(anchor.Value.Certificate))
        {
            if (CheckDates(certificate, "CA certificate", now, presented) is { } expired)
            {
                return (null, expired);
            }
        }

        // Above the anchor, collect the rest of the chain (sent or uploaded), so groups on a root still match
        // when the chain reached a verified intermediate first.
        var issuers = path.Skip(1).ToList();
        if (!anchorInPath)
        {
            issuers.Add(anchor.Value.Certificate);
        }

        var top = anchor.Value.Certificate;
        while (issuers.Count < 16 && !IsSignedBy(top, top, cacheable: true))
        {
            var above = presented.Concat(loaded.Select(d => d.Certificate))
                .FirstOrDefault(c => !issuers.Any(i => i.RawData.AsSpan().SequenceEqual(c.RawData)) && !c.RawData.AsSpan().SequenceEqual(leaf.RawData) && IsSignedBy(top, c, cacheable: true));
            if (above is null) break;
            issuers.Add(above);
            top = above;
        }

        return (new DeviceChain(leaf, presented, issuers, anchor.Value.Entity, anchor.Value.Certificate), null);
    }

    /// <summary>
    /// The DPS certificate as an X509Certificate2, loaded once per stored entity (entities are immutable: a changed
    /// certificate is a new entity). Loading it again on every registration cost an allocation and a finalizer each.
    /// </summary>
    private static X509Certificate2 Load(DpsCertificateEntity entity) =>
        LoadedCertificates.GetValue(entity, e => X509CertificateLoader.LoadCertificate(e.Der));

    private static readonly ConditionalWeakTable<DpsCertificateEntity, X509Certificate2> LoadedCertificates = new();

    /// <summary>Signature checks between CA certificates, by content; their number is small (see IsSignedBy).</summary>
    private static readonly ConcurrentDictionary<string, bool> CaSignatures = new(StringComparer.Ordinal);

    private const int MaxCachedSignatures = 4096;

    /// <summary>
    /// Whether <paramref name="issuer"/> issued <paramref name="certificate"/>: its subject is the certificate's
    /// issuer name (RFC 5280 name chaining; exact bytes, or the same name ignoring case and string types) and its key
    /// made the signature. The name test skips the costly key import and ECDSA verification for certificates that
    /// cannot have issued this one (every registration tried the device's leaf against each DPS certificate).
    /// Results between CA certificates (<paramref name="cacheable"/>: not the device's own leaf, which is new each
    /// time) are kept by content, so the intermediate → root and root → root checks of a device population run once.
    /// </summary>
    private static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 issuer, bool cacheable)
    {
        if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData)
            && !string.Equals(certificate.Issuer, issuer.Subject, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (!cacheable)
        {
            return SignatureVerifier.IsSignedBy(certificate, issuer);
        }

        var key = Convert.ToHexString(SHA256.HashData(certificate.RawDataMemory.Span)) + "/" + Convert.ToHexString(SHA256.HashData(issuer.RawDataMemory.Span));
        if (CaSignatures.TryGetValue(key, out var known))
        {
            return known;
        }

        var signed = SignatureVerifier.IsSignedBy(certificate, issuer);
        if (CaSignatures.Count < MaxCachedSignatures)
        {
            CaSignatures[key] = signed;
        }

        return signed;
    }

    private static DeviceApiError ExplainBrokenChain(
        List<X509Certificate2> path, IReadOnlyList<X509Certificate2> presented, List<(DpsCertificateEntity Entity, X509Certificate2 Certificate)> loaded,
        DpsCertificateEntity? unverified, string dpsName, JsonArray inventory)
    {
        var pathSubjects = new JsonArray(path.Select(c => (JsonNode)c.Subject).ToArray());
        if (unverified is not null)
        {
            return Refuse("caNotVerified",
                $"The device's chain reaches the DPS certificate '{unverified.Name}', which is not verified on DPS '{dpsName}'.", presented,
                $"Upload and verify '{unverified.Name}' (proof of possession: generate a verification code, sign a verification certificate with the CA's key and submit it), or mark it verified on upload (isVerified=true).",
                new JsonObject { ["certificateName"] = unverified.Name, ["path"] = pathSubjects, ["dpsCertificates"] = inventory });
        }

        var top = path[^1];
        if (SignatureVerifier.IsSelfSigned(top))
        {
            return Refuse("caNotUploaded",
                $"The device's chain ends at the root '{top.Subject}', which is not a certificate of DPS '{dpsName}'.", presented,
                $"Upload '{top.Subject}' to the DPS certificates and verify it, then reference it from the enrollment group.",
                new JsonObject { ["path"] = pathSubjects, ["dpsCertificates"] = inventory });
        }

        var sameName = loaded.FirstOrDefault(d => d.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(top.IssuerName.RawData)
            || string.Equals(d.Certificate.Subject, top.Issuer, StringComparison.OrdinalIgnoreCase));
        if (sameName.Entity is not null)
        {
            return Refuse("caKeyMismatch",
                $"'{top.Subject}' names '{top.Issuer}' as its issuer, and DPS certificate '{sameName.Entity.Name}' has that name, but it did not sign '{top.Subject}' (a different key: a re-created CA with the same name?).", presented,
                "Upload the CA certificate that actually signed the device chain, or issue the device certificates again from the uploaded CA.",
                new JsonObject { ["path"] = pathSubjects, ["certificateName"] = sameName.Entity.Name, ["dpsCertificates"] = inventory });
        }

        var hint = path.Count == 1 && presented.Count == 1
            ? $"The device sent only its leaf certificate. Send the leaf plus every intermediate up to a verified CA in the TLS handshake (the leaf's issuer is '{top.Issuer}'), or upload and verify '{top.Issuer}'."
            : $"Send '{top.Issuer}' (the issuer of '{top.Subject}') in the TLS handshake as well, or upload it to DPS '{dpsName}' and verify it.";
        return Refuse("missingChainElements",
            $"The device's certificate chain is incomplete: nothing it sent or DPS '{dpsName}' holds issued '{top.Subject}' (issuer '{top.Issuer}').", presented, hint,
            new JsonObject { ["missing"] = top.Issuer, ["path"] = pathSubjects, ["dpsCertificates"] = inventory });
    }

    private static DeviceApiError? CheckDates(X509Certificate2 certificate, string what, DateTimeOffset now, IReadOnlyList<X509Certificate2> presented)
    {
        var notBefore = certificate.NotBefore.ToUniversalTime();
        var notAfter = certificate.NotAfter.ToUniversalTime();
        if (now.UtcDateTime < notBefore)
        {
            return Refuse("certificateNotYetValid", $"The {what} '{certificate.Subject}' is not valid before {notBefore.ToString("u", CultureInfo.InvariantCulture)} (now {now.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}).", presented,
                "Check the clocks of the issuing machine and the emulator, or wait until the certificate becomes valid.");
        }

        if (now.UtcDateTime > notAfter)
        {
            return Refuse("certificateExpired", $"The {what} '{certificate.Subject}' expired on {notAfter.ToString("u", CultureInfo.InvariantCulture)}.", presented,
                "Issue a new certificate; DPS refuses expired certificates anywhere in the chain.");
        }

        return null;
    }

    public static DeviceApiError Refuse(string reason, string message, IReadOnlyList<X509Certificate2> presented, string hint, JsonObject? extra = null)
    {
        var info = new JsonObject
        {
            ["reason"] = reason,
            ["presented"] = new JsonArray(presented.Select(c => (JsonNode)c.Subject).ToArray()),
        };
        if (extra is not null)
        {
            foreach (var (key, value) in extra) info[key] = value?.DeepClone();
        }

        info["hint"] = hint;
        return new DeviceApiError(401, DeviceErrorCodes.Unauthorized, message, info);
    }

    /// <summary>Leaf first, then what else the device sent, without duplicates.</summary>
    public static IReadOnlyList<X509Certificate2> Presented(PeerCertificates peer)
    {
        var result = new List<X509Certificate2> { peer.Leaf };
        foreach (var certificate in peer.Sent)
        {
            if (!result.Any(c => c.RawData.AsSpan().SequenceEqual(certificate.RawData))) result.Add(certificate);
        }

        return result;
    }
}
