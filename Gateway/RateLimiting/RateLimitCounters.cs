using Gateway.Admin;

namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>rate-limit</c> and <c>rate-limit-by-key</c>: per key, a window that starts with its first
/// call and renews after the renewal period, on the injected clock (per gateway instance, as in API Management). A call
/// is checked and counted in one step; a call counted later (under an increment condition) counts in the window of the
/// moment it is settled.
/// </summary>
internal sealed class RateLimitCounters(TimeProvider time) : IResettableState
{
    private readonly TimeProvider _time = time;
    private readonly KeyedStates<Window> _keys = new(time);

    public string Name => "rate-limit";

    public StateScope Scope => StateScope.Counters;

    public int Count => _keys.Count;

    /// <summary>Forgets every window: each key starts a fresh one with its next call.</summary>
    public void Reset() => _keys.Clear();

    /// <summary>
    /// Admits one more call while the key's window holds fewer than <paramref name="calls"/>, counting
    /// <paramref name="charge"/> in the same step. Refused, the wait is until the window renews.
    /// </summary>
    public Lease Acquire(string key, int calls, TimeSpan period, long charge)
    {
        var now = _time.GetUtcNow();
        using var locked = _keys.Lock(key, now);
        var window = locked.State;
        window.Renew(now, period);
        if (!Lease.Admits(window.Count, 0, 1, calls))
        {
            return Lease.Refused(window.Start + period - now);
        }

        var remaining = calls - (window.Count + 1);
        window.Count += charge;
        return new WindowLease(this, key, window, window.Start, period, charge, remaining);
    }

    private sealed class Window : KeyState
    {
        public DateTimeOffset Start { get; private set; } = DateTimeOffset.MinValue;

        public TimeSpan Period { get; private set; }

        public long Count { get; set; }

        public override bool IsIdle(DateTimeOffset now) => now >= Start + Period;

        /// <summary>Starts a new window at <paramref name="now"/> when the current one has lasted <paramref name="period"/>.</summary>
        public void Renew(DateTimeOffset now, TimeSpan period)
        {
            if (now >= Start + period)
            {
                Start = now;
                Count = 0;
            }

            Period = period;
        }
    }

    private sealed class WindowLease(RateLimitCounters counters, string key, Window admitted, DateTimeOffset start, TimeSpan period, long charged, long remaining)
        : Lease(charged, remaining)
    {
        protected override void Replace(long charged, long count)
        {
            var now = counters._time.GetUtcNow();
            using var locked = counters._keys.Lock(key, now);
            var window = locked.State;
            window.Renew(now, period);
            if (ReferenceEquals(window, admitted) && window.Start == start)
            {
                window.Count -= charged;
            }

            window.Count += count;
        }
    }
}
