using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>Reads what the user gave for an import (or an approved request's public parts) into <see cref="ImportMaterial"/>.</summary>
public static class CaImportReader
{
    /// <summary>An approved request's public parts as import material; its key stays in the store under its id.</summary>
    public static ImportMaterial? ReadApproved(ImportCaPayload approved, out PortalError? error)
    {
        error = null;
        var certificate = X509Certificate2.CreateFromPem(approved.CertificatePem);
        if (!string.Equals(certificate.Thumbprint, approved.ThumbprintSha1, StringComparison.OrdinalIgnoreCase))
        {
            certificate.Dispose();
            error = new PortalError("The request's certificate does not match its recorded thumbprint.", "Make the import request again.");
            return null;
        }

        return new ImportMaterial(certificate, [.. approved.IssuerChainPem.Select(pem => X509Certificate2.CreateFromPem(pem))], null, null, approved.KeyId);
    }

    public static string? CheckSizes(CaImportRequest request)
    {
        if (request.Certificate.Length == 0)
        {
            return "No certificate was given.";
        }

        if (request.Certificate.Length > CaImportLimits.MaxFileBytes)
        {
            return CaImportLimits.TooLarge("certificate file", request.Certificate.Length);
        }

        if (request.PrivateKeyPem?.Length > CaImportLimits.MaxFileBytes)
        {
            return CaImportLimits.TooLarge("key file", request.PrivateKeyPem.Length);
        }

        return request.Chain?.Length > CaImportLimits.MaxFileBytes ? CaImportLimits.TooLarge("chain file", request.Chain.Length) : null;
    }

    /// <summary>
    /// The CA (first certificate, or the one the PFX key belongs to), the rest as chain, and at most one key. Encrypted
    /// keys and PFX files asking for too many key-derivation iterations are refused before any work.
    /// </summary>
    public static ImportMaterial? Read(CaImportRequest request, out PortalError? error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        error = null;
        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(request.Certificate, string.IsNullOrEmpty(request.Password) ? null : request.Password, cancellationToken);
        }
        catch (PkiException ex)
        {
            error = ex.Code switch
            {
                PkiErrorCode.WrongPassphrase => new PortalError(ex.Message, "Enter the PFX password again (it is case-sensitive), or export the certificate as PEM."),
                PkiErrorCode.TooManyIterations => new PortalError(ex.Message, "Export the file again with fewer iterations, or give the certificate and the key as PEM."),
                _ => new PortalError($"The certificate could not be read. {ex.Message}", "Give the CA certificate as PEM, DER (.cer), base64 or a PFX file."),
            };
            return null;
        }

        var key = read.Key;
        var chain = read.Certificates.Skip(1).ToList();
        try
        {
            if (request.PrivateKeyPem is { Length: > 0 } keyBytes)
            {
                if (key is not null)
                {
                    error = new PortalError("Two private keys were given: one with the certificate and a separate key file.", "Give the key only once.");
                    return Abandon();
                }

                string keyText;
                try
                {
                    keyText = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(keyBytes);
                }
                catch (DecoderFallbackException)
                {
                    error = new PortalError("The key file is not PEM text.", "Give the private key as PEM (BEGIN PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY).");
                    return Abandon();
                }

                try
                {
                    key = PrivateKey.ImportPem(keyText, string.IsNullOrEmpty(request.KeyPassphrase) ? null : request.KeyPassphrase, cancellationToken);
                }
                catch (PkiException ex)
                {
                    error = new PortalError($"The private key could not be read. {ex.Message}", ex.Code switch
                    {
                        PkiErrorCode.WrongPassphrase => "Enter the key's passphrase again.",
                        PkiErrorCode.TooManyIterations => "Re-encrypt the key with fewer iterations (the command above does it), then import it again.",
                        _ => "Give the CA's private key as PEM.",
                    });
                    return Abandon();
                }
            }

            if (request.Chain is { Length: > 0 } chainBytes)
            {
                try
                {
                    using var extra = CertificateReader.Read(chainBytes, cancellationToken: cancellationToken);
                    if (extra.Key is not null)
                    {
                        error = new PortalError("The chain file holds a private key.", "The chain needs the issuing CA certificates only; remove the key from it.");
                        return Abandon();
                    }

                    chain.AddRange(extra.Certificates);
                }
                catch (PkiException ex)
                {
                    error = new PortalError($"The chain could not be read. {ex.Message}", "Give the issuing CA certificates as PEM (one after the other) or DER.");
                    return Abandon();
                }
            }

            return new ImportMaterial(read.Certificates[0], chain, key, read);
        }
        catch
        {
            Abandon();
            throw;
        }

        ImportMaterial? Abandon()
        {
            key?.Dispose();
            read.Dispose();
            return null;
        }
    }
}

/// <summary>What an import works with: the CA, the chain given with it, and its key (read now) or the id of a stored one.</summary>
public sealed class ImportMaterial(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain, PrivateKey? key, ReadCertificates? read, string? storedKeyId = null) : IDisposable
{
    public X509Certificate2 Certificate { get; } = certificate;

    public IReadOnlyList<X509Certificate2> Chain { get; } = chain;

    public PrivateKey? Key { get; } = key;

    public string? StoredKeyId { get; } = storedKeyId;

    public void Dispose()
    {
        if (read is null)
        {
            // Made from an approved request's PEM: these certificates are ours alone.
            Certificate.Dispose();
            foreach (var certificate in Chain)
            {
                certificate.Dispose();
            }

            return;
        }

        if (!ReferenceEquals(Key, read.Key))
        {
            Key?.Dispose();
        }

        read.Dispose();
    }
}
