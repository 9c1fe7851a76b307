using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's model-call metrics, on the meter <see cref="MeterName"/>: the GenAI client metrics of OpenTelemetry's
/// conventions (token usage, operation duration, time to first chunk of a stream; their units and bucket boundaries),
/// and the gateway's own (backend tries by status, retries, circuit-breaker changes, tokens per subscription and
/// deployment). Nothing is recorded while no listener enables an instrument.
/// </summary>
internal sealed class GenAIMetrics
{
    public const string MeterName = "Gateway.GenAI";

    public const string TokenUsageName = "gen_ai.client.token.usage";
    public const string OperationDurationName = "gen_ai.client.operation.duration";
    public const string TimeToFirstChunkName = "gen_ai.client.operation.time_to_first_chunk";
    public const string BackendRequestsName = "apim.backend.requests";
    public const string RetriesName = "apim.backend.retries";
    public const string BreakerChangesName = "apim.backend.circuit_breaker.changes";
    public const string SubscriptionTokensName = "apim.subscription.tokens";

    // The conventions' ExplicitBucketBoundaries (docs/telemetry.md).
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] SecondBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _timeToFirstChunk;
    private readonly Counter<long> _backendRequests;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _breakerChanges;
    private readonly Counter<long> _subscriptionTokens;

    public GenAIMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _tokenUsage = meter.CreateHistogram(TokenUsageName, "{token}", "Number of input and output tokens used.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _duration = meter.CreateHistogram(OperationDurationName, "s", "GenAI operation duration: one try of forward-request, until its response was sent or dropped.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondBuckets });
        _timeToFirstChunk = meter.CreateHistogram(TimeToFirstChunkName, "s", "Time from the start of a streamed try until its first chunk went to the client.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondBuckets });
        _backendRequests = meter.CreateCounter<long>(BackendRequestsName, "{request}", "Tries of forward-request on model operations, by backend and outcome (status code, or error type).");
        _retries = meter.CreateCounter<long>(RetriesName, "{request}", "Tries of forward-request after the first of their request, by the backend they went to.");
        _breakerChanges = meter.CreateCounter<long>(BreakerChangesName, "{change}", "Circuit breakers opening (tripped) and closing again, by backend.");
        _subscriptionTokens = meter.CreateCounter<long>(SubscriptionTokensName, "{token}", "Tokens the backends reported, by subscription, deployment (the requested model) and token type.");
    }

    /// <summary>Whether any listener records a per-try instrument (the circuit-breaker counter is not one).</summary>
    public bool Enabled => _duration.Enabled || _tokenUsage.Enabled || _backendRequests.Enabled || _retries.Enabled || _timeToFirstChunk.Enabled || _subscriptionTokens.Enabled;

    public void Retried(string? backendId)
    {
        if (_retries.Enabled)
        {
            _retries.Add(1, new KeyValuePair<string, object?>(GenAITelemetry.BackendId, backendId));
        }
    }

    public void BreakerChanged(string backendId, string state)
    {
        if (_breakerChanges.Enabled)
        {
            _breakerChanges.Add(1, new KeyValuePair<string, object?>(GenAITelemetry.BackendId, backendId), new KeyValuePair<string, object?>("apim.backend.circuit_breaker.state", state));
        }
    }

    /// <summary>Records one try that has ended.</summary>
    public void TryEnded(GenAITry attempt, string? subscription)
    {
        var outcome = attempt.ErrorType ?? (attempt.StatusCode is int status ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        if (_backendRequests.Enabled)
        {
            _backendRequests.Add(1, new KeyValuePair<string, object?>(GenAITelemetry.BackendId, attempt.BackendId), new KeyValuePair<string, object?>("apim.forward.outcome", outcome));
        }

        if (_duration.Enabled)
        {
            var tags = ConventionTags(attempt);
            if (attempt.ErrorType is { } error)
            {
                tags.Add(GenAIConventions.ErrorType, error);
            }

            _duration.Record(attempt.Elapsed.TotalSeconds, tags);
        }

        if (attempt.FirstChunk is { } first && _timeToFirstChunk.Enabled)
        {
            _timeToFirstChunk.Record(first.TotalSeconds, ConventionTags(attempt));
        }

        if (attempt.Usage is not { } usage)
        {
            return;
        }

        if (_tokenUsage.Enabled)
        {
            var input = ConventionTags(attempt);
            input.Add(GenAIConventions.TokenType, "input");
            _tokenUsage.Record(usage.PromptTokens, input);
            if (attempt.Operation != GenAIConventions.Embeddings)
            {
                var output = ConventionTags(attempt);
                output.Add(GenAIConventions.TokenType, "output");
                _tokenUsage.Record(usage.CompletionTokens, output);
            }
        }

        if (_subscriptionTokens.Enabled)
        {
            _subscriptionTokens.Add(usage.PromptTokens, SubscriptionTags(subscription, attempt.RequestModel, "input"));
            _subscriptionTokens.Add(usage.CompletionTokens, SubscriptionTags(subscription, attempt.RequestModel, "output"));
        }
    }

    private static System.Diagnostics.TagList ConventionTags(GenAITry attempt)
    {
        var tags = new System.Diagnostics.TagList
        {
            { GenAIConventions.OperationName, attempt.Operation },
            { GenAIConventions.ProviderName, GenAIConventions.Provider },
        };

        // The requested model is the client's own text until a backend answers it: a metric dimension only then, so
        // that requests naming made-up models cannot multiply the series.
        if (attempt.StatusCode is < 400)
        {
            tags.Add(GenAIConventions.RequestModel, attempt.RequestModel);
        }

        if (attempt.ResponseModel is { } model)
        {
            tags.Add(GenAIConventions.ResponseModel, model);
        }

        if (attempt.ServerAddress is { } address)
        {
            tags.Add(GenAIConventions.ServerAddress, address);
            tags.Add(GenAIConventions.ServerPort, attempt.ServerPort);
        }

        return tags;
    }

    private static System.Diagnostics.TagList SubscriptionTags(string? subscription, string? deployment, string type) => new()
    {
        { GenAITelemetry.SubscriptionName, subscription },
        { "apim.deployment", deployment },
        { GenAIConventions.TokenType, type },
    };
}
