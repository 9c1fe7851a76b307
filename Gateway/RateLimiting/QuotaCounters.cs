using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Admin;

namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>quota</c> and <c>quota-by-key</c>: per key, the calls and bytes of the current period. Periods
/// are fixed windows of the renewal period laid end to end from an anchor (<c>first-period-start</c>, or the
/// subscription's start), on the injected clock, per gateway instance as in API Management. A renewal period of zero
/// never renews. A counter is one key with one period definition: quotas that share a key but not their periods count
/// apart, so neither resets the other. Counters whose period has ended are dropped once there are many.
/// </summary>
internal sealed class QuotaCounters(TimeProvider time) : IResettableState
{
    private const int SweepAbove = 4096;

    private readonly ConcurrentDictionary<string, Usage> _usage = new(StringComparer.Ordinal);

    /// <summary>The counter of a key under one period definition.</summary>
    public static string CounterOf(string key, DateTimeOffset anchor, TimeSpan renewal) =>
        string.Create(CultureInfo.InvariantCulture, $"{key}\n{anchor.UtcTicks}\n{renewal.Ticks}");

    /// <summary>
    /// Which limit the counter has reached, if any, and how long until its period renews; when none is reached, adds
    /// <paramref name="admit"/> calls in the same step, so concurrent requests cannot pass the limit together.
    /// <paramref name="ownCalls"/> are calls the request being checked has already counted on this counter (through
    /// another quota), left out of the check.
    /// </summary>
    public (QuotaLimit? Exceeded, TimeSpan RenewsIn) TryAdmit(string counter, DateTimeOffset anchor, TimeSpan renewal, long? calls, long? bytes, long ownCalls = 0, long admit = 0)
    {
        var now = time.GetUtcNow();
        var (start, end) = PeriodAt(now, anchor, renewal);
        var usage = Current(counter, start, end, now);
        lock (usage)
        {
            QuotaLimit? exceeded = calls is { } maxCalls && usage.Calls - ownCalls >= maxCalls ? QuotaLimit.Calls
                : bytes is { } maxBytes && usage.Bytes >= maxBytes ? QuotaLimit.Bandwidth
                : null;
            if (exceeded is null)
            {
                usage.Calls += admit;
            }

            return (exceeded, end - now);
        }
    }

    /// <summary>Counts calls and bytes against the counter's current period.</summary>
    public void Add(string counter, DateTimeOffset anchor, TimeSpan renewal, long calls, long bytes)
    {
        var now = time.GetUtcNow();
        var (start, end) = PeriodAt(now, anchor, renewal);
        var usage = Current(counter, start, end, now);
        lock (usage)
        {
            usage.Calls += calls;
            usage.Bytes += bytes;
        }
    }

    /// <summary>The period that holds <paramref name="now"/>: the whole of time when <paramref name="renewal"/> is zero.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) PeriodAt(DateTimeOffset now, DateTimeOffset anchor, TimeSpan renewal)
    {
        if (renewal <= TimeSpan.Zero)
        {
            return (DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        }

        // Floor division, so an anchor in the future still yields the period that holds now.
        var elapsed = (now - anchor).Ticks;
        var periods = elapsed >= 0 ? elapsed / renewal.Ticks : ((elapsed + 1) / renewal.Ticks) - 1;
        var start = anchor.AddTicks(periods * renewal.Ticks);
        return (start, start + renewal);
    }

    public string Name => "quota";

    public StateScope Scope => StateScope.Counters;

    public int Count => _usage.Count;

    /// <summary>Forgets all usage: every key starts its current period at zero.</summary>
    public void Reset() => _usage.Clear();

    private Usage Current(string counter, DateTimeOffset start, DateTimeOffset end, DateTimeOffset now)
    {
        if (_usage.Count > SweepAbove)
        {
            foreach (var (ended, old) in _usage)
            {
                if (old.End <= now)
                {
                    _usage.TryRemove(KeyValuePair.Create(ended, old));
                }
            }
        }

        var usage = _usage.GetOrAdd(counter, _ => new Usage(start, end));
        lock (usage)
        {
            if (usage.Start != start)
            {
                usage.Start = start;
                usage.End = end;
                usage.Calls = 0;
                usage.Bytes = 0;
            }
        }

        return usage;
    }

    private sealed class Usage(DateTimeOffset start, DateTimeOffset end)
    {
        public DateTimeOffset Start { get; set; } = start;

        public DateTimeOffset End { get; set; } = end;

        public long Calls { get; set; }

        public long Bytes { get; set; }
    }
}
