using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Device;

/// <summary>What proved the device's identity and which enrollment applies.</summary>
internal sealed record Attested(EnrollmentView Enrollment, X509Certificate2? Leaf, X509Certificate2? SigningCertificate, string? PrimaryKey, string? SecondaryKey)
{
    private JsonObject? _leafInfo;
    private JsonObject? _signingInfo;
    private (string? Sha1, string? Sha256)? _thumbprints;

    /// <summary>
    /// Computes what the answer needs from the certificates (subjects, thumbprints, SHA-256) now, so it is not
    /// done inside the store's write lock, which every registration of the emulator takes in turn.
    /// </summary>
    public void Prepare()
    {
        _ = Thumbprints;
        if (Leaf is not null) _leafInfo ??= RegistrationJson.CertificateInfo(Leaf);
        if (SigningCertificate is not null) _signingInfo ??= RegistrationJson.CertificateInfo(SigningCertificate);
    }

    public (string? Sha1, string? Sha256) Thumbprints => _thumbprints ??= RegistrationJson.Thumbprints(Leaf);

    /// <summary>certificateInfo of the leaf (a node can have one parent: a second caller gets a copy).</summary>
    public JsonObject LeafInfo => Detached(_leafInfo ??= RegistrationJson.CertificateInfo(Leaf!));

    public JsonObject SigningInfo => Detached(_signingInfo ??= RegistrationJson.CertificateInfo(SigningCertificate!));

    private static JsonObject Detached(JsonObject node) => node.Parent is null ? node : node.DeepClone().AsObject();
}
