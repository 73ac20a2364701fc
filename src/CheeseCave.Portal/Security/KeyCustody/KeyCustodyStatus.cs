namespace CheeseCave.Portal.Security.KeyCustody;

/// <summary>What the running portal does with its key ring, for the start-up warning and the readiness detail.</summary>
public sealed record KeyCustodyStatus(KeyRingStore Store, bool EncryptedAtRest, bool WarnWhenUnprotected)
{
    /// <summary>True when the ring lies in clear outside Development: the start-up log and /health/ready say so.</summary>
    public bool Unprotected => !EncryptedAtRest && WarnWhenUnprotected;

    public string Describe() => Store == KeyRingStore.Database ? "in the database" : "in the data folder's keys/";
}
