using Gateway.Pipeline;
using Gateway.Tokens;

namespace Gateway.Telemetry;

/// <summary>
/// In front of the client's response stream while GenAI telemetry listens: notes when the first byte of the body went
/// out, and reads what the answer says about itself (<see cref="GenAIResponseFacts"/>) as it goes by, without holding
/// anything back: an event stream chunk by chunk (through the same line reader as the token usage), any other body
/// copied aside (a <see cref="BodyCopy"/>).
/// </summary>
internal sealed class GenAIResponseTap(Stream inner, Func<string?> contentType, TimeProvider time, bool captureText) : ObservingStream(inner)
{
    private readonly Lock _lock = new();
    private StreamedUsageReader? _events;
    private GenAIResponseFacts? _streamFacts;
    private BodyCopy? _copy;

    /// <summary>The timestamp (on the gateway's clock) of the body's first byte; null before it.</summary>
    public long? FirstWrite { get; private set; }

    /// <summary>Whether the body went out as an event stream.</summary>
    public bool Streamed => _events is not null;

    /// <summary>
    /// What the body that went by said; null when nothing went by, or too much of something that is not a stream. Called
    /// when the body has been sent: a copied body is given back as it is read, so it reads once.
    /// </summary>
    public GenAIResponseFacts? Facts()
    {
        lock (_lock)
        {
            if (_events is not null)
            {
                _events.Flush();
                return _streamFacts;
            }

            return _copy?.Read(captureText, static (body, captureText) =>
            {
                var facts = new GenAIResponseFacts(captureText);
                facts.ReadBody(body);
                return facts;
            });
        }
    }

    protected override void OnWritten(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (FirstWrite is null)
            {
                FirstWrite = time.GetTimestamp();
                if (UsageJson.IsEventStream(contentType()))
                {
                    var facts = new GenAIResponseFacts(captureText);
                    _streamFacts = facts;
                    _events = new StreamedUsageReader(TokenCounting.TokenCounter.ForModel(null), chunk => facts.Read(chunk));
                }
                else
                {
                    _copy = new BodyCopy(declaredLength: null);
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
