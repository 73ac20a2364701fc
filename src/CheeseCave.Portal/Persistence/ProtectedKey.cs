namespace CheeseCave.Portal.Persistence;

/// <summary>
/// A CA private key as stored: PKCS#8 encrypted with ASP.NET Core Data Protection (see
/// <see cref="Security.ProtectedKeyStore"/>). Rows are never updated; a key id is used once.
/// </summary>
public sealed class ProtectedKey
{
    public string KeyId { get; set; } = "";

    public byte[] ProtectedBytes { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public string CreatedBy { get; set; } = "";
}
