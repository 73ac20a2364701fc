using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// The certificates a TLS client presented: the leaf and every intermediate it sent. HttpContext exposes only the
/// leaf, so the chain is captured during the handshake and kept with the connection.
/// </summary>
internal sealed record PeerCertificates(X509Certificate2 Leaf, IReadOnlyList<X509Certificate2> Sent)
{
    internal const string ItemKey = "cheesecave.peer-certificates";

    public static PeerCertificates? From(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var value) == true ? value as PeerCertificates : null;
}

/// <summary>The TLS settings of every endpoint that devices use (HTTPS and MQTT): one place, so both capture the same chain.</summary>
internal static class DeviceTls
{
    /// <summary>
    /// Server options that ask every client for a certificate but never fail the handshake (ARM and service callers
    /// have none, and a device with a bad chain must get DPS's JSON error, not a TLS alert), and hand the presented
    /// leaf and intermediates to <paramref name="onPeer"/>.
    /// </summary>
    public static SslServerAuthenticationOptions ServerOptions(SslStreamCertificateContext serverCertificate, Action<PeerCertificates> onPeer)
    {
        ArgumentNullException.ThrowIfNull(onPeer);
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = serverCertificate,
            ClientCertificateRequired = true,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,

            // How SslStream builds the client chain before the callback sees it: against no trusted root (the device
            // endpoint checks it against the DPS certificates), offline. The default policy loads and searches the
            // system trust store on every handshake, under a process-wide lock. The certificates the client sent
            // still arrive in the callback's chain.ChainPolicy.ExtraStore (docs/toolchain.md §8).
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
            },

            // A resumed TLS session carries the client's leaf but not the intermediates it sent, so a device's
            // second connection would look like "leaf only" (missingChainElements). Every handshake is a full one.
            AllowTlsResume = false,
#pragma warning disable CA5359 // deliberate: the device endpoint validates the presented chain itself, per DPS rules
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                if (Capture(certificate, chain) is { } peer)
                {
                    onPeer(peer);
                }

                return true;
            },
#pragma warning restore CA5359
        };
    }

    /// <summary>The leaf and every certificate the client sent.</summary>
    internal static PeerCertificates? Capture(X509Certificate? certificate, X509Chain? chain)
    {
        if (certificate is null) return null;
        var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var sent = new List<X509Certificate2> { leaf };
        if (chain is not null)
        {
            foreach (var extra in chain.ChainPolicy.ExtraStore)
            {
                if (!extra.RawData.AsSpan().SequenceEqual(leaf.RawData))
                {
                    sent.Add(X509CertificateLoader.LoadCertificate(extra.RawData));
                }
            }
        }

        return new PeerCertificates(leaf, sent);
    }
}
