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

/// <summary>The writing side: buffers one chunk, so the last one can be marked final when the stream is completed.</summary>
internal sealed class EncryptingStream(Stream output, byte[] key, BackupHeader header) : Stream
{
    private readonly AesGcm _aes = new(key, ChunkedAesGcm.TagSize);
    private readonly byte[] _buffer = new byte[BackupHeader.ChunkSize];
    private int _filled;
    private uint _counter;
    private bool _completed;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_filled == _buffer.Length)
            {
                WriteChunk(final: false);
            }

            var take = Math.Min(buffer.Length, _buffer.Length - _filled);
            buffer[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Writes the last chunk, marked final. Without it the file is refused as truncated.</summary>
    public void Complete()
    {
        if (!_completed)
        {
            WriteChunk(final: true);
            _completed = true;
            output.Flush();
        }
    }

    private void WriteChunk(bool final)
    {
        var cipher = new byte[_filled];
        var tag = new byte[ChunkedAesGcm.TagSize];
        _aes.Encrypt(ChunkedAesGcm.Nonce(header.NoncePrefix, _counter++), _buffer.AsSpan(0, _filled), cipher, tag, ChunkedAesGcm.AssociatedData(header.Bytes, final));
        Span<byte> frame = stackalloc byte[5];
        frame[0] = final ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32BigEndian(frame[1..], _filled);
        output.Write(frame);
        output.Write(cipher);
        output.Write(tag);
        CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _filled));
        _filled = 0;
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>The reading side: hands out plaintext only from chunks that authenticated, and fails on a missing final chunk.</summary>
internal sealed class DecryptingStream(Stream input, byte[] key, BackupHeader header) : Stream
{
    private const string Damaged = "This backup is damaged or was changed after it was written (a chunk failed its integrity check). Nothing was restored; use an intact copy.";
    private readonly AesGcm _aes = new(key, ChunkedAesGcm.TagSize);
    private byte[] _plain = [];
    private int _position;
    private uint _counter;
    private bool _final;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_position == _plain.Length)
        {
            if (_final)
            {
                if (input.ReadByte() != -1)
                {
                    throw new BackupException(Damaged); // bytes after the final chunk
                }

                return 0;
            }

            ReadChunk();
        }

        var take = Math.Min(buffer.Length, _plain.Length - _position);
        _plain.AsSpan(_position, take).CopyTo(buffer);
        _position += take;
        return take;
    }

    private void ReadChunk()
    {
        Span<byte> frame = stackalloc byte[5];
        if (input.ReadAtLeast(frame, 5, throwOnEndOfStream: false) < 5)
        {
            throw new BackupException("This backup is cut short (its last part is missing). Nothing was restored; use a complete copy.");
        }

        var final = frame[0] switch { 0 => false, 1 => true, _ => throw new BackupException(Damaged) };
        var length = BinaryPrimitives.ReadInt32BigEndian(frame[1..]);
        if (length is < 0 or > BackupHeader.ChunkSize)
        {
            throw new BackupException(Damaged);
        }

        var cipher = new byte[length + ChunkedAesGcm.TagSize];
        if (input.ReadAtLeast(cipher, cipher.Length, throwOnEndOfStream: false) < cipher.Length)
        {
            throw new BackupException("This backup is cut short (its last part is missing). Nothing was restored; use a complete copy.");
        }

        var plain = new byte[length];
        try
        {
            _aes.Decrypt(ChunkedAesGcm.Nonce(header.NoncePrefix, _counter++), cipher.AsSpan(0, length), cipher.AsSpan(length), plain, ChunkedAesGcm.AssociatedData(header.Bytes, final));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new BackupException(Damaged, ex);
        }

        CryptographicOperations.ZeroMemory(_plain);
        _plain = plain;
        _position = 0;
        _final = final;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
        }

        base.Dispose(disposing);
    }
}
