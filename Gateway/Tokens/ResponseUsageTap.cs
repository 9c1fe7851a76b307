using System.Buffers;
using TokenCounting;

namespace Gateway.Tokens;

/// <summary>
/// Sits in front of the client's response stream and watches the body go by for its token usage, without holding it
/// back: every write and flush goes straight through. An event stream is followed event by event; any other body is
/// copied aside (up to <see cref="MaxCopiedBytes"/>) to read its <c>usage</c> once it has been sent.
/// </summary>
internal sealed class ResponseUsageTap(Stream inner, Func<string?> contentType, TokenCounter counter) : Pipeline.ObservingStream(inner)
{
    /// <summary>A larger body that is not an event stream is not read for usage.</summary>
    public const int MaxCopiedBytes = 1024 * 1024;

    private readonly Lock _lock = new();
    private StreamedUsageReader? _events;
    private ArrayBufferWriter<byte>? _copy;
    private bool _started;
    private bool _tooLarge;

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

    protected override void OnWritten(ReadOnlySpan<byte> bytes)
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
