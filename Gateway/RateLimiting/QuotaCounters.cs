using System.Globalization;
using Gateway.Admin;

namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>quota</c> and <c>quota-by-key</c>: per counter, the calls and the bytes of the current
/// period (<see cref="PeriodCounters"/>). Periods are fixed windows of the renewal period laid end to end from an anchor
/// (<c>first-period-start</c>, or the subscription's start), on the injected clock, per gateway instance as in API
/// Management. A renewal period of zero never renews. A counter is one key with one period definition: quotas that
/// share a key but not their periods count apart, so neither resets the other.
/// </summary>
internal sealed class QuotaCounters(TimeProvider time) : IResettableState
{
    private readonly TimeProvider _time = time;
    private readonly PeriodCounters _calls = new(time);
    private readonly PeriodCounters _bytes = new(time);

    public string Name => "quota";

    public StateScope Scope => StateScope.Counters;

    public int Count => _calls.Count + _bytes.Count;

    /// <summary>Forgets all usage: every key starts its current period at zero.</summary>
    public void Reset()
    {
        _calls.Clear();
        _bytes.Clear();
    }

    /// <summary>The counter of a key under one period definition.</summary>
    public static string CounterOf(string key, DateTimeOffset anchor, TimeSpan renewal) =>
        string.Create(CultureInfo.InvariantCulture, $"{key}\n{anchor.UtcTicks}\n{renewal.Ticks}");

    /// <summary>
    /// Admits one more call while the counter's calls in the current period, less <paramref name="own"/> (calls this
    /// request counted through another quota), are under <paramref name="limit"/>; counts <paramref name="charge"/>
    /// calls in the same step. Refused, the wait is until the period renews.
    /// </summary>
    public Lease AcquireCalls(string counter, DateTimeOffset anchor, TimeSpan renewal, long limit, long charge, long own)
    {
        var (start, end) = PeriodAt(_time.GetUtcNow(), anchor, renewal);
        return _calls.Acquire(counter, start, end, limit, need: 1, charge, own);
    }

    /// <summary>
    /// Admits a request while the counter's bytes in the current period are under <paramref name="limitBytes"/>; the
    /// lease is to be settled with the bytes the request moved.
    /// </summary>
    public Lease AcquireBandwidth(string counter, DateTimeOffset anchor, TimeSpan renewal, long limitBytes)
    {
        var (start, end) = PeriodAt(_time.GetUtcNow(), anchor, renewal);
        return _bytes.Acquire(counter, start, end, limitBytes, need: 1, charge: 0);
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
}
