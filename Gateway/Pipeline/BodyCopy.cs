using System.Buffers;

namespace Gateway.Pipeline;

/// <summary>
/// A body copied aside as it goes to the client, to be read once it has been sent (for its token usage, or what it says
/// about itself): up to <see cref="MaxBytes"/>, in a buffer from the shared array pool. Reading it gives the buffer back,
/// so a copy is read once; a body past the limit is dropped and reads as nothing. Not thread-safe: its owner locks.
/// </summary>
internal sealed class BodyCopy
{
    /// <summary>A larger body is not copied.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>The first buffer when the body declares no length.</summary>
    private const int FirstBytes = 256;

    private byte[]? _buffer;
    private int _length;

    /// <summary>A copy for a body about to go by.</summary>
    /// <param name="declaredLength">The body's declared length, if any: room for all of it at once, or nothing copied when it is over the limit.</param>
    public BodyCopy(long? declaredLength)
    {
        if (declaredLength is not > MaxBytes)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(declaredLength is > 0 and var length ? (int)length : FirstBytes);
        }
    }

    /// <summary>Adds what went by; past <see cref="MaxBytes"/> the copy is dropped.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_buffer is null)
        {
            return;
        }

        if (bytes.Length > MaxBytes - _length)
        {
            Release();
            return;
        }

        var length = _length + bytes.Length;
        if (length > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(MaxBytes, Math.Max(length, _buffer.Length * 2)));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        _length = length;
    }

    /// <summary>Reads the copy with <paramref name="read"/> and gives its buffer back; the default when it was dropped or already read.</summary>
    public T? Read<TArg, T>(TArg arg, Func<ReadOnlySpan<byte>, TArg, T> read)
    {
        if (_buffer is null)
        {
            return default;
        }

        try
        {
            return read(_buffer.AsSpan(0, _length), arg);
        }
        finally
        {
            Release();
        }
    }

    private void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
