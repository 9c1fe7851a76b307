namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>limit-concurrency</c>: how many requests are inside the policies of each key right now, per
/// gateway instance. A request that would exceed the count is refused at once; nothing waits in a queue. A slot is a
/// lease charged one; releasing it lets the next request in.
/// </summary>
internal sealed class ConcurrencyLimits(TimeProvider time)
{
    private readonly TimeProvider _time = time;
    private readonly KeyedStates<Slots> _keys = new(time);

    /// <summary>A slot for one request under <paramref name="key"/>, refused when <paramref name="maxCount"/> are already inside.</summary>
    public Lease Acquire(string key, int maxCount)
    {
        using var locked = _keys.Lock(key, _time.GetUtcNow());
        var slots = locked.State;
        if (!Lease.Admits(slots.Inside, 0, 1, maxCount))
        {
            return Lease.Refused(TimeSpan.Zero);
        }

        slots.Inside++;
        return new SlotLease(slots, maxCount - slots.Inside);
    }

    /// <summary>How many requests are inside the policies of <paramref name="key"/>.</summary>
    public int Inside(string key)
    {
        if (!_keys.TryFind(key, out var found))
        {
            return 0;
        }

        using (found)
        {
            return found.State.Inside;
        }
    }

    private sealed class Slots : KeyState
    {
        public int Inside { get; set; }

        public override bool IsIdle(DateTimeOffset now) => Inside == 0;
    }

    /// <summary>Holds its key's state, which is not forgotten while a slot is taken.</summary>
    private sealed class SlotLease(Slots slots, long remaining) : Lease(1, remaining)
    {
        protected override void Replace(long charged, long count)
        {
            using var scope = slots.Gate.EnterScope();
            slots.Inside += (int)(count - charged);
        }
    }
}
