using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CheeseCave.Portal.Backup;

/// <summary>The reading side of <see cref="ChunkedAesGcm"/>: hands out plaintext only from chunks that authenticated, and fails on a missing final chunk.</summary>
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
