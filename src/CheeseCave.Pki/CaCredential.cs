using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// A CA certificate with the key that signs for it, plus the certificates above it (closest first, root last;
/// empty for a root). Built through <see cref="Create"/>, which checks that the key belongs to the certificate.
/// </summary>
public sealed class CaCredential : IDisposable
{
    private readonly ConcurrentDictionary<(CertificateKind Kind, ProfilePreset Preset, KeyAlgorithm SubjectKey), LeafTemplate> _leafTemplates = new();
    private X509SignatureGenerator? _signer;
    private string? _chainPem;
    private string? _chainWithoutRootPem;

    private CaCredential(X509Certificate2 certificate, ISigningKey key, IReadOnlyList<X509Certificate2> issuerChain)
    {
        Certificate = certificate;
        Key = key;
        IssuerChain = issuerChain;
        Chain = [certificate, .. issuerChain];

        // Worked out once per CA rather than per issued certificate: bulk issuance reuses them thousands of times.
        ChainWithoutRoot = Chain.Where(c => !SignatureVerifier.IsSelfSigned(c)).ToArray();
        ChainCommonNames = Chain.Select(c => SubjectNames.GetCommonName(c)).OfType<string>().ToArray();
        BasicConstraints = certificate.Extensions.OfType<X509BasicConstraintsExtension>().First();
        SubjectKeyIdentifier = certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes
            ?? new X509SubjectKeyIdentifierExtension(certificate.PublicKey, X509SubjectKeyIdentifierHashAlgorithm.Sha1, false).SubjectKeyIdentifierBytes;
        NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
    }

    public X509Certificate2 Certificate { get; }

    public ISigningKey Key { get; }

    public IReadOnlyList<X509Certificate2> IssuerChain { get; }

    /// <summary>This CA followed by its issuers up to the root.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>The chain without a self-signed root: the CA part of what a device sends.</summary>
    internal IReadOnlyList<X509Certificate2> ChainWithoutRoot { get; }

    internal IReadOnlyList<string> ChainCommonNames { get; }

    internal X509BasicConstraintsExtension BasicConstraints { get; }

    internal ReadOnlyMemory<byte> SubjectKeyIdentifier { get; }

    internal DateTimeOffset NotBefore { get; }

    internal DateTimeOffset NotAfter { get; }

    /// <summary>One signature generator for every certificate this credential signs (the key object is shared anyway).</summary>
    internal X509SignatureGenerator Signer => LazyInitializer.EnsureInitialized(ref _signer, Key.CreateSignatureGenerator);

    /// <summary>The chain as PEM, encoded once: every issued certificate's chain files repeat it.</summary>
    internal string ChainPem => LazyInitializer.EnsureInitialized(ref _chainPem, () => CertificateExport.ToPem(Chain));

    internal string ChainWithoutRootPem => LazyInitializer.EnsureInitialized(ref _chainWithoutRootPem, () => CertificateExport.ToPem(ChainWithoutRoot));

    internal LeafTemplate LeafTemplateFor(CertificateKind kind, ProfilePreset preset, KeyAlgorithm subjectKey) =>
        _leafTemplates.GetOrAdd((kind, preset, subjectKey), k => new LeafTemplate(k.Kind, k.Preset, k.SubjectKey, this, Signer));

    public static CaCredential Create(X509Certificate2 certificate, ISigningKey key, IEnumerable<X509Certificate2>? issuerChain = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(key);
        // The rules are CaImportPolicy's; the wording here is for code that signs, hence exceptions rather than problems.
        if (!CaImportPolicy.KeyMatches(key.PublicKey, certificate))
        {
            throw new PkiException(PkiErrorCode.KeyMismatch,
                $"The private key does not belong to '{certificate.Subject}': pick the key file that was created with this certificate.");
        }

        if (!CaImportPolicy.IsCa(certificate))
        {
            throw new PkiException(PkiErrorCode.IssuerNotCa,
                $"'{certificate.Subject}' is not a CA certificate (basicConstraints CA:TRUE is missing), so it cannot sign certificates.");
        }

        if (!CaImportPolicy.MaySignCertificates(certificate))
        {
            throw new PkiException(PkiErrorCode.IssuerNotCa,
                $"'{certificate.Subject}' has a keyUsage without keyCertSign, so it may not sign certificates.");
        }

        var chain = issuerChain?.ToList() ?? [];
        var child = certificate;
        foreach (var parent in chain)
        {
            if (!SignatureVerifier.IsSignedBy(child, parent))
            {
                throw new PkiException(PkiErrorCode.WrongSigner,
                    $"The issuer chain is out of order or incomplete: '{child.Subject}' is not signed by '{parent.Subject}'.");
            }

            child = parent;
        }

        return new CaCredential(certificate, key, chain);
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>A freshly issued certificate, its new private key (none for CSR signing) and the chain above it.</summary>
public sealed class IssuedCertificate : IDisposable
{
    private readonly IReadOnlyList<X509Certificate2> _issuerChainWithoutRoot;
    private readonly CaCredential? _issuer;
    private readonly byte[] _rawData;
    private readonly LeafFacts? _leafFacts;
    private X509Certificate2? _certificate;
    private string? _certificatePem;

    internal IssuedCertificate(CertificateKind kind, X509Certificate2 certificate, PrivateKey? key, IReadOnlyList<X509Certificate2> issuerChain, IReadOnlyList<string> warnings)
        : this(kind, certificate.RawData, certificate, key, issuerChain, issuerChain.Where(c => !SignatureVerifier.IsSelfSigned(c)).ToArray(), null, warnings)
    {
    }

    internal IssuedCertificate(CertificateKind kind, X509Certificate2 certificate, PrivateKey? key, CaCredential issuer, IReadOnlyList<string> warnings)
        : this(kind, certificate.RawData, certificate, key, issuer.Chain, issuer.ChainWithoutRoot, issuer, warnings)
    {
    }

    /// <summary>
    /// From the encoded certificate and what went into it: the X509Certificate2 is only parsed if someone asks for it
    /// (parsing costs about as much as issuing, a noticeable share of each CSR signed through the API).
    /// </summary>
    internal IssuedCertificate(CertificateKind kind, byte[] rawData, PrivateKey? key, CaCredential issuer, IReadOnlyList<string> warnings, LeafFacts facts)
        : this(kind, rawData, null, key, issuer.Chain, issuer.ChainWithoutRoot, issuer, warnings)
    {
        _leafFacts = facts;
    }

    private IssuedCertificate(CertificateKind kind, byte[] rawData, X509Certificate2? certificate, PrivateKey? key, IReadOnlyList<X509Certificate2> issuerChain, IReadOnlyList<X509Certificate2> issuerChainWithoutRoot, CaCredential? issuer, IReadOnlyList<string> warnings)
    {
        Kind = kind;
        _rawData = rawData;
        _certificate = certificate;
        Key = key;
        IssuerChain = issuerChain;
        _issuerChainWithoutRoot = issuerChainWithoutRoot;
        _issuer = issuer;
        Warnings = warnings;
    }

    public CertificateKind Kind { get; }

    public X509Certificate2 Certificate => LazyInitializer.EnsureInitialized(ref _certificate, () => X509CertificateLoader.LoadCertificate(_rawData));

    /// <summary>The subject's CN (the registration id of a device), without parsing the certificate when it was just made here.</summary>
    public string? CommonName => _leafFacts is { } facts ? facts.CommonName : SubjectNames.GetCommonName(Certificate);

    /// <summary>The serial number in hex, as <see cref="X509Certificate2.SerialNumber"/> shows it.</summary>
    public string SerialNumber => _leafFacts?.SerialNumber ?? Certificate.SerialNumber;

    /// <summary>The issuer's name, as <see cref="X509Certificate.Issuer"/> shows it.</summary>
    public string IssuerName => _leafFacts is not null && _issuer is not null ? _issuer.Certificate.Subject : Certificate.Issuer;

    /// <summary>The certified key's type.</summary>
    public KeyAlgorithm SubjectKeyAlgorithm => _leafFacts?.KeyAlgorithm ?? KeyAlgorithms.FromPublicKey(Certificate.PublicKey);

    /// <summary>Validity as encoded (whole seconds, UTC).</summary>
    public DateTimeOffset NotBefore => _leafFacts?.NotBefore ?? new DateTimeOffset(Certificate.NotBefore.ToUniversalTime());

    public DateTimeOffset NotAfter => _leafFacts?.NotAfter ?? new DateTimeOffset(Certificate.NotAfter.ToUniversalTime());

    /// <summary>The certificate's DER encoding.</summary>
    public ReadOnlyMemory<byte> RawData => _rawData;

    public PrivateKey? Key { get; }

    /// <summary>Issuers, closest first, root last.</summary>
    public IReadOnlyList<X509Certificate2> IssuerChain { get; }

    /// <summary>Things the caller should tell the user, such as a validity the request asked for that was shortened to the issuer's end date.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Leaf plus every intermediate, without the self-signed root: what a device must present in its TLS handshake.</summary>
    public IReadOnlyList<X509Certificate2> DeviceChain => [Certificate, .. _issuerChainWithoutRoot];

    /// <summary>Leaf, intermediates and root.</summary>
    public IReadOnlyList<X509Certificate2> FullChain => [Certificate, .. IssuerChain];

    /// <summary>The certificate as PEM (same text as <see cref="CertificateExport.ToPem(X509Certificate2)"/>).</summary>
    public string CertificatePem => LazyInitializer.EnsureInitialized(ref _certificatePem, () => PemEncoding.WriteString(PemLabels.Certificate, _rawData) + "\n");

    /// <summary><see cref="DeviceChain"/> as PEM, without parsing anything.</summary>
    public string DeviceChainPem => string.Concat(CertificatePem, _issuer?.ChainWithoutRootPem ?? CertificateExport.ToPem(_issuerChainWithoutRoot));

    /// <summary><see cref="FullChain"/> as PEM, without parsing anything.</summary>
    public string FullChainPem => string.Concat(CertificatePem, _issuer?.ChainPem ?? CertificateExport.ToPem(IssuerChain));

    /// <summary>Turns a newly created CA into a credential that can sign. The credential owns the key afterwards.</summary>
    public CaCredential ToCaCredential()
    {
        if (Key is null)
        {
            throw new InvalidOperationException("A CSR-signed certificate has no private key here.");
        }

        return CaCredential.Create(Certificate, Key, IssuerChain);
    }

    public void Dispose() => Key?.Dispose();
}

/// <summary>What a leaf certificate was made from, so its facts can be read without parsing it back.</summary>
internal sealed record LeafFacts(string CommonName, string SerialNumber, DateTimeOffset NotBefore, DateTimeOffset NotAfter, KeyAlgorithm KeyAlgorithm);
