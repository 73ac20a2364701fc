namespace CheeseCave.Pki;

/// <summary>What went wrong, as a stable code a caller can branch on; the message says it in plain words.</summary>
public enum PkiErrorCode
{
    InvalidInput,
    InvalidSubject,
    InvalidRegistrationId,
    InvalidVerificationCode,
    UnsupportedKey,
    WeakKey,
    UnreadableCertificate,
    UnreadableKey,
    WrongPassphrase,
    BadCsrSignature,
    CsrRequestsCa,
    WrongSigner,
    IssuerNotCa,
    IssuerExpired,
    PathLengthExceeded,
    DuplicateName,
    KeyMismatch,
    /// <summary>An encrypted key or PFX asks for more key-derivation work than <see cref="KeyDerivationLimits.MaxIterations"/>.</summary>
    TooManyIterations,
}

/// <summary>The one exception type of the CA: every rule it enforces fails with a specific code and a one-line explanation.</summary>
public sealed class PkiException(PkiErrorCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public PkiErrorCode Code { get; } = code;
}
