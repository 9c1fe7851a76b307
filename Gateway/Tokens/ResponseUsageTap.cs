using System.Buffers;
using TokenCounting;

namespace Gateway.Tokens;

/// <summary>
/// Sits in front of the client's response stream and watches the body go by for its token usage, without holding it
/// back: every write and flush goes straight through. An event stream is followed event by event; any other body is
/// copied aside (up to <see cref="MaxCopiedBytes"/>) to read its <c>usage</c> once it has been sent.
/// </summary>
/// <param name="inner">The client's response stream.</param>
/// <param name="response">The response whose body it is: its headers are final by the first byte of the body.</param>
/// <param name="counter">Counts a stream's text when no chunk reports usage.</param>
internal sealed class ResponseUsageTap(Stream inner, HttpResponse response, TokenCounter counter) : Pipeline.ObservingStream(inner)
{
    /// <summary>The copy's first buffer when the body declares no length.</summary>
    private const int FirstCopyBytes = 256;

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
        if (bytes.IsEmpty)
        {
            // Nothing went by (a copy sized to its body would otherwise grow for nothing).
            return;
        }

        lock (_lock)
        {
            if (!_started)
            {
                // The headers are final by the first byte of the body.
                _started = true;
                if (UsageJson.IsEventStream(response.ContentType))
                {
                    _events = new StreamedUsageReader(counter);
                }
                else if (response.ContentLength > MaxCopiedBytes)
                {
                    _tooLarge = true;
                }
                else
                {
                    // Room for the whole body when it declares its length, so the copy is made once.
                    _copy = new ArrayBufferWriter<byte>(response.ContentLength is > 0 and var length ? (int)length : FirstCopyBytes);
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
