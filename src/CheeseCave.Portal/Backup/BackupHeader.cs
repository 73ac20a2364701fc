using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Pki;

namespace CheeseCave.Portal.Backup;

/// <summary>
/// The 64-byte header of a backup file (docs/backup.md): magic, format version, key derivation and its iteration count,
/// salt, nonce prefix, chunk size, and a check value that tells a wrong passphrase from a damaged file. The whole header
/// is authenticated with every chunk, so none of it can be changed without the file being refused.
/// </summary>
internal sealed class BackupHeader
{
    public const int Length = 64;
    public const ushort CurrentVersion = 1;
    public const int DefaultIterations = 600_000; // OWASP's 2023 advice for PBKDF2-HMAC-SHA256
    public const int MinimumIterations = 100_000;
    public const int ChunkSize = 1 << 20;
    private const byte Pbkdf2Sha256 = 1;
    private const byte Aes256GcmChunked = 1;
    private const int CheckedLength = 48;

    private static readonly byte[] Magic = "CCBACKUP"u8.ToArray();

    private readonly byte[] _bytes;

    private BackupHeader(byte[] bytes) => _bytes = bytes;

    public int Iterations => (int)BinaryPrimitives.ReadUInt32BigEndian(_bytes.AsSpan(12, 4));

    public ReadOnlySpan<byte> Bytes => _bytes;

    public ReadOnlySpan<byte> NoncePrefix => _bytes.AsSpan(32, 8);

    public static BackupHeader Create(int iterations)
    {
        var bytes = new byte[Length];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8, 2), CurrentVersion);
        bytes[10] = Pbkdf2Sha256;
        bytes[11] = Aes256GcmChunked;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12, 4), (uint)iterations);
        RandomNumberGenerator.Fill(bytes.AsSpan(16, 16)); // salt
        RandomNumberGenerator.Fill(bytes.AsSpan(32, 8)); // nonce prefix
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(40, 4), ChunkSize);
        return new BackupHeader(bytes);
    }

    /// <summary>Reads and checks the header's shape; says in one sentence what is wrong with a file that is not a backup this version reads.</summary>
    public static async Task<BackupHeader> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        var bytes = new byte[Length];
        var read = await input.ReadAtLeastAsync(bytes, Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new BackupException("This file is not a CheeseCave backup (its first bytes are not a backup header).");
        }

        var header = new BackupHeader(bytes);
        var version = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(8, 2));
        if (version != CurrentVersion || bytes[10] != Pbkdf2Sha256 || bytes[11] != Aes256GcmChunked
            || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(40, 4)) != ChunkSize)
        {
            throw new BackupException(string.Create(CultureInfo.InvariantCulture,
                $"This backup is format version {version}, which this portal does not read (it reads version {CurrentVersion}). Restore it with the portal version that made it."));
        }

        // The count comes from the file: capped before any work, like every other key derivation the portal does.
        if (header.Iterations is < MinimumIterations or > KeyDerivationLimits.MaxIterations)
        {
            throw new BackupException(string.Create(CultureInfo.InvariantCulture,
                $"This backup asks for {header.Iterations:N0} key-derivation iterations; CheeseCave reads {MinimumIterations:N0} to {KeyDerivationLimits.MaxIterations:N0}. The file is damaged or was not made by CheeseCave."));
        }

        return header;
    }

    /// <summary>PBKDF2 once, then two independent keys: one encrypts, one checks the passphrase.</summary>
    public byte[] DeriveKeys(string passphrase, out byte[] checkKey)
    {
        var master = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), _bytes.AsSpan(16, 16), Iterations, HashAlgorithmName.SHA256, 32);
        try
        {
            checkKey = HKDF.Expand(HashAlgorithmName.SHA256, master, 32, "cheesecave-backup v1 passphrase check"u8.ToArray());
            return HKDF.Expand(HashAlgorithmName.SHA256, master, 32, "cheesecave-backup v1 encryption"u8.ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(master);
        }
    }

    public void Seal(byte[] checkKey) => CheckValue(checkKey).CopyTo(_bytes.AsSpan(CheckedLength));

    public bool PassphraseMatches(byte[] checkKey) =>
        CryptographicOperations.FixedTimeEquals(CheckValue(checkKey), _bytes.AsSpan(CheckedLength, Length - CheckedLength));

    private byte[] CheckValue(byte[] checkKey) => HMACSHA256.HashData(checkKey, _bytes.AsSpan(0, CheckedLength))[..(Length - CheckedLength)];
}

/// <summary>A backup or restore refused for a reason the operator can act on; the message is the whole story.</summary>
public sealed class BackupException(string message, Exception? inner = null) : Exception(message, inner);
