using Gateway.Pipeline;
using TokenCounting;

namespace Gateway.Tokens;

/// <summary>
/// Sits in front of the client's response stream and watches the body go by for its token usage, without holding it
/// back: every write and flush goes straight through. An event stream is followed event by event; any other body is
/// copied aside (a <see cref="BodyCopy"/>) to read its <c>usage</c> once it has been sent.
/// </summary>
/// <param name="inner">The client's response stream.</param>
/// <param name="response">The response whose body it is: its headers are final by the first byte of the body.</param>
/// <param name="counter">Counts a stream's text when no chunk reports usage.</param>
internal sealed class ResponseUsageTap(Stream inner, HttpResponse response, TokenCounter counter) : ObservingStream(inner)
{
    private readonly Lock _lock = new();
    private StreamedUsageReader? _events;
    private BodyCopy? _copy;
    private bool _started;

    /// <summary>
    /// The usage of what has gone by: reported, or (for an event stream) counted; null when nothing reports any. Called
    /// when the body has been sent: a copied body is given back as it is read, so it reads once.
    /// </summary>
    public TokenUsage? Result(ModelRequest request)
    {
        lock (_lock)
        {
            if (_events is not null)
            {
                return _events.Result(request.PromptTokens);
            }

            return _copy?.Read(request, static (body, request) => UsageJson.FromBody(body, null, request));
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
                else
                {
                    _copy = new BodyCopy(response.ContentLength);
                }
            }

            if (_events is not null)
            {
                _events.Write(bytes);
            }
            else
            {
                _copy?.Append(bytes);
            }
        }
    }
}
