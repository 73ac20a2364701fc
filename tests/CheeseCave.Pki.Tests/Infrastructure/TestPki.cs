using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;

namespace CheeseCave.Pki.Tests.Infrastructure;

/// <summary>Clocks, a quick chain builder and assertions shared by the test classes.</summary>
public static class TestPki
{
    /// <summary>A fixed instant for tests that never hand their certificates to openssl (which checks against the real clock).</summary>
    public static readonly DateTimeOffset FixedNow = new(2026, 2, 10, 9, 30, 0, TimeSpan.Zero);

    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    public const string EmailProtectionOid = "1.3.6.1.5.5.7.3.4";
    public const string BasicConstraintsOid = "2.5.29.19";
    public const string KeyUsageOid = "2.5.29.15";
    public const string ExtendedKeyUsageOid = "2.5.29.37";
    public const string SubjectKeyIdentifierOid = "2.5.29.14";
    public const string AuthorityKeyIdentifierOid = "2.5.29.35";
    public const string SubjectAltNameOid = "2.5.29.17";
    public const string NetscapeCertTypeOid = "2.16.840.1.113730.1.1";
    public const string NetscapeCommentOid = "2.16.840.1.113730.1.13";

    public static FakeTimeProvider FixedClock() => new(FixedNow);

    /// <summary>The real current time, to whole seconds, frozen: for certificates that openssl checks against its own clock.</summary>
    public static FakeTimeProvider RealClock()
    {
        var now = DateTimeOffset.UtcNow;
        return new FakeTimeProvider(new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero));
    }

    public static T OnlyExtension<T>(X509Certificate2 certificate)
        where T : X509Extension =>
        Assert.Single(certificate.Extensions.OfType<T>());

    public static X509Extension? Find(X509Certificate2 certificate, string oid) =>
        certificate.Extensions.Cast<X509Extension>().FirstOrDefault(e => e.Oid?.Value == oid);

    public static string[] ExtensionOids(X509Certificate2 certificate) =>
        [.. certificate.Extensions.Cast<X509Extension>().Select(e => e.Oid!.Value!).Order(StringComparer.Ordinal)];

    public static string[] EkuOids(X509Certificate2 certificate) =>
        [.. OnlyExtension<X509EnhancedKeyUsageExtension>(certificate).EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value!).Order(StringComparer.Ordinal)];

    /// <summary>RFC 5280 4.2.1.2 method 1, computed here rather than by the library: SHA-1 of the subjectPublicKey bits.</summary>
#pragma warning disable CA5350 // RFC 5280 key identifiers are SHA-1 by definition; nothing is protected by this hash.
    public static byte[] Sha1KeyId(X509Certificate2 certificate) => SHA1.HashData(certificate.PublicKey.EncodedKeyValue.RawData);
#pragma warning restore CA5350

    public static DateTimeOffset NotBefore(X509Certificate2 c) => new(c.NotBefore.ToUniversalTime());

    public static DateTimeOffset NotAfter(X509Certificate2 c) => new(c.NotAfter.ToUniversalTime());

    /// <summary>Asserts a <see cref="PkiException"/> with the code, a one-line message and the expected words in it.</summary>
    public static PkiException AssertFails(PkiErrorCode code, Action action, params string[] mentions)
    {
        var exception = Assert.Throws<PkiException>(action);
        Assert.True(code == exception.Code, $"Expected {code} but got {exception.Code}: {exception.Message}");
        AssertOneLine(exception.Message);
        foreach (var word in mentions)
        {
            Assert.Contains(word, exception.Message, StringComparison.OrdinalIgnoreCase);
        }

        return exception;
    }

    public static void AssertOneLine(string message)
    {
        Assert.False(string.IsNullOrWhiteSpace(message), "The message is empty.");
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
    }

    /// <summary>Builds an end-entity or CA certificate outside the library's profiles, for linter inputs the CA refuses to issue.</summary>
    public static X509Certificate2 HandMade(
        string subject,
        IssuedCertificate issuer,
        bool isCa,
        TimeProvider clock,
        bool withClientAuth = true,
        KeyAlgorithm keyAlgorithm = KeyAlgorithm.EcdsaP256)
    {
        using var key = PrivateKey.Generate(keyAlgorithm);
        var request = new CertificateRequest(new X500DistinguishedName(subject), key.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            isCa ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign : X509KeyUsageFlags.DigitalSignature, critical: true));
        if (withClientAuth)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthOid)], critical: false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
        var now = clock.GetUtcNow();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return request.Create(issuer.Certificate.SubjectName, issuer.Key!.CreateSignatureGenerator(), now.AddMinutes(-5), now.AddDays(90), serial);
    }

    /// <summary>Reads the BIT STRING of the Netscape certificate type extension.</summary>
    public static byte[] NetscapeCertTypeBits(X509Extension extension, out int unusedBits)
    {
        var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
        var bits = reader.ReadBitString(out unusedBits);
        reader.ThrowIfNotEmpty();
        return bits;
    }

    public static string NetscapeComment(X509Extension extension)
    {
        var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
        var text = reader.ReadCharacterString(UniversalTagNumber.IA5String);
        reader.ThrowIfNotEmpty();
        return text;
    }
}

/// <summary>A root → intermediate → device chain issued with one clock (a null key type keeps the preset's default); disposes the keys.</summary>
public sealed class TestChain : IDisposable
{
    public TestChain(
        TimeProvider clock,
        ProfilePreset preset = ProfilePreset.Recommended,
        KeyAlgorithm? keyAlgorithm = KeyAlgorithm.EcdsaP256,
        string registrationId = "device-01")
    {
        Clock = clock;
        Ca = new CertificateAuthority(clock);
        Root = Ca.CreateRoot(new RootCaRequest("CheeseCave Test Root") { Preset = preset, KeyAlgorithm = keyAlgorithm });
        RootCredential = CaCredential.Create(Root.Certificate, Root.Key!);
        Intermediate = Ca.CreateIntermediate(new IntermediateCaRequest("CheeseCave Test Intermediate") { Preset = preset, KeyAlgorithm = keyAlgorithm }, RootCredential);
        IntermediateCredential = CaCredential.Create(Intermediate.Certificate, Intermediate.Key!, Intermediate.IssuerChain);
        Device = Ca.IssueDeviceCertificate(new DeviceCertificateRequest(registrationId) { Preset = preset, KeyAlgorithm = keyAlgorithm }, IntermediateCredential);
    }

    public TimeProvider Clock { get; }

    public CertificateAuthority Ca { get; }

    public IssuedCertificate Root { get; }

    public CaCredential RootCredential { get; }

    public IssuedCertificate Intermediate { get; }

    public CaCredential IntermediateCredential { get; }

    public IssuedCertificate Device { get; }

    public void Dispose()
    {
        Device.Dispose();
        Intermediate.Dispose();
        Root.Dispose();
    }
}
