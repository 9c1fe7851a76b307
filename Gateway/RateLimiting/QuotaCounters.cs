using System.Collections.Concurrent;
using Gateway.Admin;

namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>quota</c> and <c>quota-by-key</c>: per key, the calls and bytes of the current period. Periods
/// are fixed windows of the renewal period laid end to end from an anchor (<c>first-period-start</c>, or the
/// subscription's start), on the injected clock, per gateway instance as in API Management. A renewal period of zero
/// never renews.
/// </summary>
internal sealed class QuotaCounters(TimeProvider time) : IResettableState
{
    private readonly ConcurrentDictionary<string, Usage> _usage = new(StringComparer.Ordinal);

    /// <summary>
    /// Which limit the key has reached, if any, and how long until its period renews. <c>ownCalls</c> are calls the
    /// request being checked has already counted (through another quota on the key), left out of the check.
    /// </summary>
    public (QuotaLimit? Exceeded, TimeSpan RenewsIn) Check(string key, DateTimeOffset anchor, TimeSpan renewal, long? calls, long? bytes, long ownCalls = 0)
    {
        var now = time.GetUtcNow();
        var (start, end) = PeriodAt(now, anchor, renewal);
        var usage = Current(key, start);
        lock (usage)
        {
            QuotaLimit? exceeded = calls is { } maxCalls && usage.Calls - ownCalls >= maxCalls ? QuotaLimit.Calls
                : bytes is { } maxBytes && usage.Bytes >= maxBytes ? QuotaLimit.Bandwidth
                : null;
            return (exceeded, end - now);
        }
    }

    /// <summary>Counts calls and bytes against the key's current period.</summary>
    public void Add(string key, DateTimeOffset anchor, TimeSpan renewal, long calls, long bytes)
    {
        var (start, _) = PeriodAt(time.GetUtcNow(), anchor, renewal);
        var usage = Current(key, start);
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

    private Usage Current(string key, DateTimeOffset start)
    {
        var usage = _usage.GetOrAdd(key, _ => new Usage(start));
        lock (usage)
        {
            if (usage.Start != start)
            {
                usage.Start = start;
                usage.Calls = 0;
                usage.Bytes = 0;
            }
        }

        return usage;
    }

    private sealed class Usage(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; set; } = start;

        public long Calls { get; set; }

        public long Bytes { get; set; }
    }
}
