namespace Gateway.RateLimiting;

/// <summary>
/// Per key, what was charged in the current period of a fixed calendar (quota periods, token-quota periods), on the
/// injected clock. The caller gives the period that holds now; a key moves on to a later period (its count starting at
/// zero) and never back. A settlement corrects the period the request was admitted in while that period lasts, and is
/// dropped with it once it has ended (it never counts in the next one). A key whose period has ended is forgotten.
/// </summary>
internal sealed class PeriodCounters(TimeProvider time)
{
    private readonly TimeProvider _time = time;
    private readonly KeyedStates<Usage> _keys = new(time);

    public int Count => _keys.Count;

    public void Clear() => _keys.Clear();

    /// <summary>
    /// Admits a request that needs <paramref name="need"/> while the key's count in the period from
    /// <paramref name="start"/> to <paramref name="end"/>, less <paramref name="own"/> (what the request already holds on
    /// the key), leaves room for it under <paramref name="limit"/>; charges <paramref name="charge"/> in the same step.
    /// Refused, the wait is until the period ends.
    /// </summary>
    public Lease Acquire(string key, DateTimeOffset start, DateTimeOffset end, long limit, long need, long charge, long own = 0)
    {
        var now = _time.GetUtcNow();
        using var locked = _keys.Lock(key, now);
        var usage = locked.State;
        usage.Enter(start, end);
        if (!Lease.Admits(usage.Used, own, need, limit))
        {
            return Lease.Refused(usage.End - now);
        }

        var remaining = limit - (usage.Used - own + need);
        usage.Limit = limit;
        usage.Used += charge;
        return new PeriodLease(this, key, usage, usage.Start, charge, remaining);
    }

    /// <summary>What the key was charged in the period that starts at <paramref name="start"/>.</summary>
    public long Used(string key, DateTimeOffset start)
    {
        if (!_keys.TryFind(key, out var found))
        {
            return 0;
        }

        using (found)
        {
            return found.State.Begun && found.State.Start == start ? found.State.Used : 0;
        }
    }

    /// <summary>Every key with a period in force now, with what it used and the limit its last admitted request was checked against.</summary>
    public List<CounterUsage> Snapshot()
    {
        var now = _time.GetUtcNow();
        return _keys.Read((key, usage) => usage.Begun && usage.End > now ? new CounterUsage(key, usage.Used, usage.Limit) : null);
    }

    private sealed class Usage : KeyState
    {
        public long Limit { get; set; }

        public bool Begun { get; private set; }

        public DateTimeOffset Start { get; private set; }

        public DateTimeOffset End { get; private set; }

        public long Used { get; set; }

        public override bool IsIdle(DateTimeOffset now) => !Begun || End <= now;

        /// <summary>
        /// Moves on to the period from <paramref name="start"/>, unless the key is already in it or a later one (a request
        /// that read the clock just before a period ended then counts in the next).
        /// </summary>
        public void Enter(DateTimeOffset start, DateTimeOffset end)
        {
            if (!Begun || start > Start)
            {
                Begun = true;
                Start = start;
                End = end;
                Used = 0;
            }
        }
    }

    private sealed class PeriodLease(PeriodCounters counters, string key, Usage admitted, DateTimeOffset period, long charged, long remaining)
        : Lease(charged, remaining)
    {
        protected override void Replace(long charged, long count)
        {
            if (!counters._keys.TryFind(key, out var found))
            {
                return;
            }

            using (found)
            {
                if (ReferenceEquals(found.State, admitted) && found.State.Start == period)
                {
                    found.State.Used += count - charged;
                }
            }
        }
    }
}
