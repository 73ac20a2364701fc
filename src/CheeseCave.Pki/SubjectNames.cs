using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>Turns what a user types ("My Root CA" or "CN=My Root CA, O=Contoso") into a subject name, and reads CNs back.</summary>
public static class SubjectNames
{
    /// <summary>X.520 ub-common-name: a CN longer than 64 characters is not a valid certificate name.</summary>
    public const int MaxCommonNameLength = 64;

    public static X500DistinguishedName Parse(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var text = input.Trim();
        if (text.Length == 0)
        {
            throw new PkiException(PkiErrorCode.InvalidSubject, "The subject name is empty: give a common name such as \"Contoso Root CA\".");
        }

        X500DistinguishedName name;
        if (LooksLikeDistinguishedName(text))
        {
            try
            {
                name = new X500DistinguishedName(text, X500DistinguishedNameFlags.UseCommas);
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new PkiException(PkiErrorCode.InvalidSubject,
                    $"'{text}' is not a valid distinguished name (write it like \"CN=Contoso Root CA, O=Contoso\"): {ex.Message}", ex);
            }
        }
        else
        {
            var builder = new X500DistinguishedNameBuilder();
            builder.AddCommonName(text);
            name = builder.Build();
        }

        var cn = GetCommonName(name);
        if (cn is null)
        {
            throw new PkiException(PkiErrorCode.InvalidSubject, $"The subject '{text}' has no CN: DPS and device SDKs need a common name.");
        }

        if (cn.Length > MaxCommonNameLength)
        {
            throw new PkiException(PkiErrorCode.InvalidSubject,
                $"The common name is {cn.Length} characters long; a certificate CN may have at most {MaxCommonNameLength}.");
        }

        return name;
    }

    public static string? GetCommonName(X500DistinguishedName name)
    {
        string? cn = null;
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == "2.5.4.3")
            {
                cn = rdn.GetSingleElementValue(); // the last CN wins, as in OpenSSL's display order
            }
        }

        return cn;
    }

    public static string? GetCommonName(X509Certificate2 certificate) => GetCommonName(certificate.SubjectName);

    private static bool LooksLikeDistinguishedName(string text) =>
        text.Contains('=', StringComparison.Ordinal)
        && System.Text.RegularExpressions.Regex.IsMatch(text, @"^\s*(CN|O|OU|C|L|S|ST|E|DC|SERIALNUMBER|OID\.[0-9.]+)\s*=", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
}
