using System.Diagnostics.Metrics;

namespace MockOpenAI.Server;

/// <summary>
/// The account's OpenTelemetry metrics, per deployment: tokens requested (charged at admission) and used (reported in
/// usage), request duration, and rate-limit refusals by reason; and requests their caller gave up on, by the stage they
/// had reached (the request journal records requests, not cancellations).
/// </summary>
internal sealed class MockMetrics
{
    public const string MeterName = "MockOpenAI";

    /// <summary>The stage of a request cancelled before any byte of its answer was sent.</summary>
    public const string Waiting = "waiting";

    /// <summary>The stage of a request cancelled while its answer streamed.</summary>
    public const string Streaming = "streaming";

    private readonly Counter<long> _tokensRequested;
    private readonly Counter<long> _tokensUsed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _cancelled;

    public MockMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _tokensRequested = meter.CreateCounter<long>("mockopenai.tokens.requested", "{token}", "Tokens charged to the deployment's quota at admission (prompt plus the completion allowance).");
        _tokensUsed = meter.CreateCounter<long>("mockopenai.tokens.used", "{token}", "Tokens reported in responses' usage, by token type (input or output).");
        _duration = meter.CreateHistogram<double>("mockopenai.request.duration", "s", "Time from the request's arrival until its response (for streams: its headers) was ready.");
        _rateLimited = meter.CreateCounter<long>("mockopenai.rate_limit.hits", "{request}", "Requests refused with 429, by the limit that refused them (tokens or requests).");
        _cancelled = meter.CreateCounter<long>("mockopenai.requests.cancelled", "{request}", "Requests whose caller went away before the answer was complete, by stage: waiting (before the first byte) or streaming.");
    }

    public void Requested(string deployment, string operation, int tokens) =>
        _tokensRequested.Add(tokens, Tags(deployment, operation));

    public void Used(string deployment, string operation, int inputTokens, int outputTokens)
    {
        _tokensUsed.Add(inputTokens, [.. Tags(deployment, operation), new("gen_ai.token.type", "input")]);
        if (outputTokens > 0)
        {
            _tokensUsed.Add(outputTokens, [.. Tags(deployment, operation), new("gen_ai.token.type", "output")]);
        }
    }

    public void RateLimited(string deployment, string operation, string reason) =>
        _rateLimited.Add(1, [.. Tags(deployment, operation), new("reason", reason)]);

    /// <summary>Counts a request its caller gave up on while it was at <paramref name="stage"/> (<see cref="Waiting"/> or <see cref="Streaming"/>).</summary>
    public void Cancelled(string stage) => _cancelled.Add(1, new KeyValuePair<string, object?>("stage", stage));

    public void Completed(string deployment, string operation, int status, TimeSpan duration) =>
        _duration.Record(duration.TotalSeconds, [.. Tags(deployment, operation), new("http.response.status_code", status)]);

    private static KeyValuePair<string, object?>[] Tags(string deployment, string operation) =>
        [new("deployment", deployment), new("operation", operation)];
}
