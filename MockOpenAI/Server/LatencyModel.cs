namespace MockOpenAI.Server;

/// <summary>Turns <see cref="LatencyOptions"/> into concrete delays, with jitter from an injected random source.</summary>
internal sealed class LatencyModel(Random random)
{
    private readonly Lock _lock = new();

    public TimeSpan FirstToken(LatencyOptions options) => Vary(options.TimeToFirstToken, options.Jitter);

    public TimeSpan NextToken(LatencyOptions options) => Vary(options.PerOutputToken, options.Jitter);

    public TimeSpan Request(LatencyOptions options) => Vary(options.PerRequest, options.Jitter);

    /// <summary>When a non-streamed completion of <paramref name="tokens"/> tokens is ready: its last token's time.</summary>
    public TimeSpan Completion(LatencyOptions options, int tokens)
    {
        var total = FirstToken(options);
        for (var i = 1; i < tokens; i++)
        {
            total += NextToken(options);
        }

        return total;
    }

    private TimeSpan Vary(TimeSpan value, double jitter)
    {
        if (value <= TimeSpan.Zero || jitter <= 0)
        {
            return value;
        }

        double factor;
        lock (_lock)
        {
            factor = 1 + ((random.NextDouble() * 2) - 1) * jitter;
        }

        return value * factor;
    }
}
