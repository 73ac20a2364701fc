using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CheeseCave.Portal.Backup;

/// <summary>
/// AES-256-GCM over a stream in 1 MiB chunks, so a large database never has to fit in memory. Each chunk is framed as
/// [final flag][length][ciphertext][tag]; its nonce is the header's random prefix and the chunk number, and its
/// associated data is the whole header and the final flag. Reordered, dropped, appended or truncated chunks and any
/// changed header byte all fail authentication.
/// </summary>
internal static class ChunkedAesGcm
{
    public const int TagSize = 16;

    public static byte[] Nonce(ReadOnlySpan<byte> prefix, uint counter)
    {
        var nonce = new byte[12];
        prefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce.AsSpan(8), counter);
        return nonce;
    }

    public static byte[] AssociatedData(ReadOnlySpan<byte> header, bool final)
    {
        var data = new byte[header.Length + 1];
        header.CopyTo(data);
        data[^1] = final ? (byte)1 : (byte)0;
        return data;
    }
}
