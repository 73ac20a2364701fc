using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// The certificates a TLS client presented: the leaf and every intermediate it sent. HttpContext exposes only the
/// leaf, so the chain is captured during the handshake and kept with the connection.
/// </summary>
public sealed record PeerCertificates(X509Certificate2 Leaf, IReadOnlyList<X509Certificate2> Sent)
{
    internal const string ItemKey = "cheesecave.peer-certificates";

    public static PeerCertificates? From(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var value) == true ? value as PeerCertificates : null;
}
