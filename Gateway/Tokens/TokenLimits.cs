namespace Gateway.Tokens;

/// <summary>
/// The counters behind <c>azure-openai-token-limit</c> and <c>llm-token-limit</c>, per gateway instance as in API
/// Management: per counter key, the tokens of the last minute (a sliding window) and, per key and quota period, the
/// tokens of the current period. A request's tokens are charged when it is admitted (its estimated prompt, or nothing)
/// and set to what it consumed once that is known (<see cref="TokenCharge.Settle"/>).
/// </summary>
internal sealed class TokenLimits(TimeProvider time) : Admin.IResettableState
{
    /// <summary>The window of <c>tokens-per-minute</c>.</summary>
    public static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>Above this many keys, those with nothing left in their window and quota periods that have ended are dropped.</summary>
    private const int SweepAbove = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<RateEntry>> _rates = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, TokenQuotaPeriod Period), QuotaUsage> _quotas = [];

    public string Name => "token-limit";

    public Admin.StateScope Scope => Admin.StateScope.Counters;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _rates.Count + _quotas.Count;
            }
        }
    }

    /// <summary>Forgets every key's tokens per minute and quota usage.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _rates.Clear();
            _quotas.Clear();
        }
    }

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// Holds the counters for a check and the charges that follow it, so that concurrent requests cannot all pass the
    /// check before any is charged (the lock is re-entrant: the methods below take it again).
    /// </summary>
    public Lock.Scope Admission() => _lock.EnterScope();

    /// <summary>The tokens <paramref name="key"/> consumed in the last minute.</summary>
    public long RateConsumed(string key)
    {
        lock (_lock)
        {
            return Window(key, Now).Sum(e => e.Tokens);
        }
    }

    /// <summary>
    /// How long until <paramref name="needed"/> more tokens fit under <paramref name="limit"/>, as the oldest charges of
    /// the window expire; <paramref name="excluded"/> (the request's own charge) is left out of the window.
    /// </summary>
    public TimeSpan RateRetryAfter(string key, long limit, long needed, long excluded)
    {
        lock (_lock)
        {
            var now = Now;
            var window = Window(key, now);
            var excess = window.Sum(e => e.Tokens) - excluded + needed - limit;
            foreach (var entry in window)
            {
                excess -= entry.Tokens;
                if (excess <= 0)
                {
                    return entry.At + Minute - now;
                }
            }

            // The request alone is more than the limit: the whole window has to pass.
            return Minute;
        }
    }

    /// <summary>The tokens <paramref name="key"/> consumed in the current <paramref name="period"/>, and when it ends.</summary>
    public (long Used, DateTimeOffset Ends) QuotaUsed(string key, TokenQuotaPeriod period)
    {
        lock (_lock)
        {
            var (start, end) = TokenQuotaPeriods.At(period, Now);
            return (Quota(key, period, start).Tokens, end);
        }
    }

    /// <summary>
    /// Charges <paramref name="tokens"/> to the key's minute window now. When settled, the charge is replaced by what
    /// the request consumed, counted from that moment: a response that takes longer than a minute still counts.
    /// </summary>
    public TokenCharge ChargeRate(string key, long tokens)
    {
        lock (_lock)
        {
            var now = Now;
            var entry = new RateEntry(now) { Tokens = tokens };
            Window(key, now).Add(entry);
            return new TokenCharge(_lock, tokens, settled =>
            {
                var at = Now;
                var window = Window(key, at);
                window.Remove(entry);
                if (settled > 0)
                {
                    window.Add(new RateEntry(at) { Tokens = settled });
                }
            });
        }
    }

    /// <summary>
    /// Charges <paramref name="tokens"/> to the key's current quota period; what is settled later corrects that same
    /// period (a request admitted just before a period ends is counted in it, and never lowers the next one).
    /// </summary>
    public TokenCharge ChargeQuota(string key, TokenQuotaPeriod period, long tokens)
    {
        lock (_lock)
        {
            var (start, _) = TokenQuotaPeriods.At(period, Now);
            var usage = Quota(key, period, start);
            usage.Tokens += tokens;
            return new TokenCharge(_lock, tokens, settled => usage.Tokens += settled - tokens);
        }
    }

    private List<RateEntry> Window(string key, DateTimeOffset now)
    {
        if (_rates.Count > SweepAbove)
        {
            Sweep(now);
        }

        if (!_rates.TryGetValue(key, out var entries))
        {
            entries = [];
            _rates[key] = entries;
        }

        entries.RemoveAll(e => e.At + Minute <= now);
        return entries;
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entries) in _rates.ToList())
        {
            entries.RemoveAll(e => e.At + Minute <= now);
            if (entries.Count == 0)
            {
                _rates.Remove(key);
            }
        }

        foreach (var (key, usage) in _quotas.ToList())
        {
            if (TokenQuotaPeriods.At(key.Period, now).Start != usage.Start)
            {
                _quotas.Remove(key);
            }
        }
    }

    private QuotaUsage Quota(string key, TokenQuotaPeriod period, DateTimeOffset start)
    {
        if (!_quotas.TryGetValue((key, period), out var usage) || usage.Start != start)
        {
            usage = new QuotaUsage(start);
            _quotas[(key, period)] = usage;
        }

        return usage;
    }

    private sealed class RateEntry(DateTimeOffset at)
    {
        public DateTimeOffset At { get; } = at;

        public long Tokens { get; set; }
    }

    private sealed class QuotaUsage(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;

        public long Tokens { get; set; }
    }
}
