namespace MockOpenAI.Quota;

/// <summary>
/// A deployment's quota as Azure OpenAI enforces it: tokens per minute from the capacity (capacity x 1000), and
/// requests at 6 per minute for every 1,000 tokens per minute, enforced over 10-second windows. Tokens are charged at
/// admission from the request's estimate. Both windows slide; the check and the charge are one atomic step.
/// </summary>
internal sealed class DeploymentQuota
{
    public static readonly TimeSpan TokenWindow = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan RequestWindow = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly Queue<(DateTimeOffset At, long Tokens)> _tokens = new();
    private readonly Queue<DateTimeOffset> _requests = new();
    private readonly Lock _lock = new();
    private long _tokensInWindow;

    /// <param name="capacity">Thousands of tokens per minute (the deployment's SKU capacity); at least 1.</param>
    /// <param name="time">The clock.</param>
    public DeploymentQuota(int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        TokensPerMinute = capacity * 1000;
        RequestsPerMinute = capacity * 6;
        RequestsPerWindow = Math.Max(1, RequestsPerMinute / (int)(TokenWindow / RequestWindow));
    }

    public int TokensPerMinute { get; }

    public int RequestsPerMinute { get; }

    /// <summary>Requests admitted in any 10-second window.</summary>
    public int RequestsPerWindow { get; }

    /// <summary>Admits the request and charges <paramref name="estimatedTokens"/>, or says which limit refused it and for how long.</summary>
    public QuotaDecision TryAdmit(int estimatedTokens)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Expire(now);

            var tokensFit = _tokensInWindow + estimatedTokens <= TokensPerMinute;
            var requestsFit = _requests.Count + 1 <= RequestsPerWindow;
            if (!tokensFit || !requestsFit)
            {
                // Both limits only loosen as time passes, so the first moment both hold is the later of the two:
                // a client that waits Retry-After finds room in both windows.
                var tokensFree = tokensFit ? now : TokensFreeAt(estimatedTokens);
                var requestsFree = requestsFit ? now : _requests.Peek() + RequestWindow;
                var retryAt = tokensFree > requestsFree ? tokensFree : requestsFree;
                return Decide(tokensFit ? QuotaLimit.Requests : QuotaLimit.Tokens, retryAt - now, now);
            }

            _tokens.Enqueue((now, estimatedTokens));
            _tokensInWindow += estimatedTokens;
            _requests.Enqueue(now);
            return Decide(QuotaLimit.None, TimeSpan.Zero, now);
        }
    }

    /// <summary>
    /// The headers' view of the quota for a request something else refuses (a throttle fault) with
    /// <paramref name="retryAfter"/>: the limits and what remains, charging nothing.
    /// </summary>
    public QuotaDecision Refused(TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Expire(now);
            return Decide(QuotaLimit.Requests, retryAfter, now);
        }
    }

    /// <summary>When enough charged tokens leave the window for <paramref name="needed"/> more to fit.</summary>
    private DateTimeOffset TokensFreeAt(int needed)
    {
        if (needed > TokensPerMinute)
        {
            // Never fits: the best answer is a whole window.
            return _time.GetUtcNow() + TokenWindow;
        }

        var remaining = _tokensInWindow;
        foreach (var (at, tokens) in _tokens)
        {
            remaining -= tokens;
            if (remaining + needed <= TokensPerMinute)
            {
                return at + TokenWindow;
            }
        }

        return _time.GetUtcNow();
    }

    private void Expire(DateTimeOffset now)
    {
        while (_tokens.Count > 0 && _tokens.Peek().At + TokenWindow <= now)
        {
            _tokensInWindow -= _tokens.Dequeue().Tokens;
        }

        while (_requests.Count > 0 && _requests.Peek() + RequestWindow <= now)
        {
            _requests.Dequeue();
        }
    }

    private QuotaDecision Decide(QuotaLimit refusedBy, TimeSpan retryAfter, DateTimeOffset now) => new(
        refusedBy,
        retryAfter,
        RequestsPerMinute,
        TokensPerMinute,
        Math.Max(0, RequestsPerWindow - _requests.Count),
        (int)Math.Max(0, TokensPerMinute - _tokensInWindow),
        _requests.Count == 0 ? TimeSpan.Zero : _requests.Peek() + RequestWindow - now,
        _tokens.Count == 0 ? TimeSpan.Zero : _tokens.Peek().At + TokenWindow - now);
}
