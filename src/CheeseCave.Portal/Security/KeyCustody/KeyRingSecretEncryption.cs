using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace CheeseCave.Portal.Security.KeyCustody;

/// <summary>
/// Encrypts the secret of a key that was stored in clear (before a certificate was configured, or imported from the
/// file ring) in the shape Data Protection itself writes: the element marked <c>requiresEncryption</c> is replaced by
/// <c>&lt;encryptedSecret decryptorType="…"&gt;</c> (in the Data Protection namespace) around the encryptor's output, so the framework reads it back
/// with the configured certificate and nothing else.
/// </summary>
internal static class KeyRingSecretEncryption
{
    private static readonly XNamespace DataProtection = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = DataProtection + "requiresEncryption";
    private static readonly XName EncryptedSecret = DataProtection + "encryptedSecret";
    private static readonly XName DecryptorType = "decryptorType";

    public static bool HasClearSecret(XElement key) =>
        key.Descendants().Any(e => (bool?)e.Attribute(RequiresEncryption) == true);

    /// <summary>A copy of <paramref name="key"/> with every clear secret encrypted; the input is not changed.</summary>
    public static XElement Encrypt(XElement key, IXmlEncryptor encryptor)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(encryptor);
        var copy = new XElement(key);
        foreach (var secret in copy.Descendants().Where(e => (bool?)e.Attribute(RequiresEncryption) == true).ToList())
        {
            var encrypted = encryptor.Encrypt(new XElement(secret));
            secret.ReplaceWith(new XElement(EncryptedSecret,
                new XAttribute(DecryptorType, encrypted.DecryptorType.AssemblyQualifiedName!),
                encrypted.EncryptedElement));
        }

        return copy;
    }
}
