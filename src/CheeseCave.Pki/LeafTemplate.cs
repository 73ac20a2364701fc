using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// Everything in a leaf certificate that is the same for every device one CA issues with one profile, encoded once:
/// signature algorithm, issuer name and the profile's extensions (the authority key id included). Issuing is then
/// writing the CN, key, serial, dates and subject key id around those bytes and one signature; this is what makes
/// bulk issuance cost little more than key generation and signing. The bytes are exactly what
/// <see cref="CertificateRequest"/> writes for the same inputs (a test compares them).
/// </summary>
internal sealed class LeafTemplate
{
    private const string CommonNameOid = "2.5.4.3";
    private const string ExtensionSubjectKeyIdentifierOid = "2.5.29.14";

    private readonly byte[] _signatureAlgorithm;
    private readonly byte[] _issuerName;
    private readonly byte[][] _extensions;
    private readonly int _subjectKeyIdentifierIndex;
    private readonly X509SignatureGenerator _signer;
    private readonly HashAlgorithmName _hash;

    public LeafTemplate(CertificateKind kind, ProfilePreset preset, KeyAlgorithm subjectKey, CaCredential issuer, X509SignatureGenerator signer)
    {
        _hash = issuer.Key.Algorithm.SignatureHash();
        _signer = signer;
        _signatureAlgorithm = signer.GetSignatureAlgorithmIdentifier(_hash);
        _issuerName = issuer.Certificate.SubjectName.RawData;

        // A stand-in SKI marks the slot each certificate's own key id goes into.
        var standIn = new X509Extension(ExtensionSubjectKeyIdentifierOid, [0x04, 0x00], critical: false);
        var extensions = ProfileExtensions.Build(kind, preset, subjectKey, pathLength: null, standIn, issuer.SubjectKeyIdentifier);
        _subjectKeyIdentifierIndex = extensions.IndexOf(standIn);
        _extensions = extensions.Select(e => ReferenceEquals(e, standIn) ? [] : EncodeExtension(e)).ToArray();
    }

    /// <summary>The DER of a signed certificate for <paramref name="commonName"/> and the given public key.</summary>
    public byte[] Issue(string commonName, ReadOnlySpan<byte> subjectPublicKeyInfo, DateTimeOffset notBefore, DateTimeOffset notAfter, ReadOnlySpan<byte> serialNumber)
    {
        var tbs = new AsnWriter(AsnEncodingRules.DER, initialCapacity: 512);
        using (tbs.PushSequence())
        {
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                tbs.WriteInteger(2); // v3
            }

            tbs.WriteInteger(serialNumber);
            tbs.WriteEncodedValue(_signatureAlgorithm);
            tbs.WriteEncodedValue(_issuerName);
            using (tbs.PushSequence())
            {
                WriteTime(tbs, notBefore);
                WriteTime(tbs, notAfter);
            }

            using (tbs.PushSequence())
            using (tbs.PushSetOf())
            using (tbs.PushSequence())
            {
                tbs.WriteObjectIdentifier(CommonNameOid);
                tbs.WriteCharacterString(UniversalTagNumber.UTF8String, commonName);
            }

            tbs.WriteEncodedValue(subjectPublicKeyInfo);
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3)))
            using (tbs.PushSequence())
            {
                for (var i = 0; i < _extensions.Length; i++)
                {
                    if (i == _subjectKeyIdentifierIndex)
                    {
                        WriteSubjectKeyIdentifier(tbs, subjectPublicKeyInfo);
                    }
                    else
                    {
                        tbs.WriteEncodedValue(_extensions[i]);
                    }
                }
            }
        }

        var toBeSigned = tbs.Encode();
        var signature = _signer.SignData(toBeSigned, _hash);
        var certificate = new AsnWriter(AsnEncodingRules.DER, initialCapacity: toBeSigned.Length + signature.Length + 32);
        using (certificate.PushSequence())
        {
            certificate.WriteEncodedValue(toBeSigned);
            certificate.WriteEncodedValue(_signatureAlgorithm);
            certificate.WriteBitString(signature);
        }

        return certificate.Encode();
    }

    /// <summary>RFC 5280 4.2.1.2 method 1, as .NET's and OpenSSL's "hash": SHA-1 of the subjectPublicKey bits.</summary>
    private static void WriteSubjectKeyIdentifier(AsnWriter writer, ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        AsnDecoder.ReadSequence(subjectPublicKeyInfo, AsnEncodingRules.DER, out var contentOffset, out var contentLength, out _);
        var content = subjectPublicKeyInfo.Slice(contentOffset, contentLength);
        AsnDecoder.ReadEncodedValue(content, AsnEncodingRules.DER, out _, out _, out var algorithmLength);
        var bitString = content[algorithmLength..];
        AsnDecoder.ReadEncodedValue(bitString, AsnEncodingRules.DER, out var bitsOffset, out var bitsLength, out _);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // an identifier, not a security function: RFC 5280 names SHA-1 for it, as OpenSSL and .NET use
        SHA1.HashData(bitString.Slice(bitsOffset + 1, bitsLength - 1), hash); // skip the unused-bits octet
#pragma warning restore CA5350
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(ExtensionSubjectKeyIdentifierOid);
            using (writer.PushOctetString())
            {
                writer.WriteOctetString(hash);
            }
        }
    }

    private static byte[] EncodeExtension(X509Extension extension)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(extension.Oid!.Value!);
            if (extension.Critical)
            {
                writer.WriteBoolean(true);
            }

            writer.WriteOctetString(extension.RawData);
        }

        return writer.Encode();
    }

    /// <summary>RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, whole seconds.</summary>
    private static void WriteTime(AsnWriter writer, DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        if (utc.Year is >= 1950 and < 2050)
        {
            writer.WriteUtcTime(utc);
        }
        else
        {
            writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
        }
    }
}
