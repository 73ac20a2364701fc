using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CheeseCave.Portal.Backup;

/// <summary>The writing side of <see cref="ChunkedAesGcm"/>: buffers one chunk, so the last one can be marked final when the stream is completed.</summary>
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
