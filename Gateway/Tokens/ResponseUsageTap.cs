using System.Buffers;

namespace Gateway.Tokens;

/// <summary>
/// Sits in front of the client's response stream and watches the body go by for its token usage, without holding it
/// back: every write and flush goes straight through. An event stream is followed event by event; any other body is
/// copied aside (up to <see cref="MaxCopiedBytes"/>) to read its <c>usage</c> once it has been sent.
/// </summary>
internal sealed class ResponseUsageTap(Stream inner, Func<string?> contentType, TokenCounter counter) : Stream
{
    /// <summary>A larger body that is not an event stream is not read for usage.</summary>
    public const int MaxCopiedBytes = 1024 * 1024;

    private readonly Lock _lock = new();
    private StreamedUsageReader? _events;
    private ArrayBufferWriter<byte>? _copy;
    private bool _started;
    private bool _tooLarge;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>The usage of what has gone by: reported, or (for an event stream) counted; null when nothing reports any.</summary>
    public TokenUsage? Result(ModelRequest request)
    {
        lock (_lock)
        {
            if (_events is not null)
            {
                return _events.Result(request.PromptTokens);
            }

            return _copy is null || _tooLarge ? null : UsageJson.FromBody(_copy.WrittenSpan, null, request);
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Observe(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Observe(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Observe(buffer.Span);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            if (!_started)
            {
                // The headers are final by the first byte of the body.
                _started = true;
                if (UsageJson.IsEventStream(contentType()))
                {
                    _events = new StreamedUsageReader(counter);
                }
                else
                {
                    _copy = new ArrayBufferWriter<byte>();
                }
            }

            if (_events is not null)
            {
                _events.Write(bytes);
            }
            else if (!_tooLarge && _copy is not null)
            {
                if (_copy.WrittenCount + bytes.Length > MaxCopiedBytes)
                {
                    _tooLarge = true;
                    _copy.Clear();
                }
                else
                {
                    _copy.Write(bytes);
                }
            }
        }
    }
}
