namespace Gateway.RateLimiting;

/// <summary>
/// Per key, what was charged in the last <see cref="Window"/> (a sliding minute, on the injected clock), for the
/// token-limit policies' <c>tokens-per-minute</c>. The minute is a ring of <see cref="BucketCount"/> buckets of
/// <see cref="BucketSize"/> aligned on the clock's whole seconds, with a running total: a charge leaves the window with
/// its bucket, one minute after the bucket's start, so at most a bucket early; a check, a charge and a settlement are
/// O(1), and a refusal's wait walks the ring once. A settlement counts from the moment it is made (a response that
/// takes longer than the window still counts), and takes the admission charge out while its bucket is in the window.
/// </summary>
internal sealed class SlidingWindowCounters(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>The resolution of the window: how early a charge may leave it, and how far a wait may move.</summary>
    public static readonly TimeSpan BucketSize = TimeSpan.FromSeconds(1);

    private const int BucketCount = 60;

    private readonly TimeProvider _time = time;
    private readonly KeyedStates<Buckets> _keys = new(time);

    public int Count => _keys.Count;

    public void Clear() => _keys.Clear();

    /// <summary>
    /// Admits a request that needs <paramref name="need"/> while the key's window, less <paramref name="own"/> (what the
    /// request already holds on the key), leaves room for it under <paramref name="limit"/>; charges
    /// <paramref name="charge"/> in the same step. Refused, the wait is until enough of the oldest charges have left.
    /// </summary>
    public Lease Acquire(string key, long limit, long need, long charge, long own = 0)
    {
        var now = _time.GetUtcNow();
        var bucket = BucketAt(now);
        using var locked = _keys.Lock(key, now);
        var buckets = locked.State;
        buckets.Advance(bucket);
        if (!Lease.Admits(buckets.Total, own, need, limit))
        {
            return Lease.Refused(buckets.Wait(buckets.Total - own + need - limit, now));
        }

        var remaining = limit - (buckets.Total - own + need);
        buckets.Limit = limit;
        buckets.Add(bucket, charge);
        return new WindowLease(this, key, buckets, bucket, charge, remaining);
    }

    /// <summary>What the key was charged in the window now.</summary>
    public long Used(string key)
    {
        if (!_keys.TryFind(key, out var found))
        {
            return 0;
        }

        using (found)
        {
            found.State.Advance(BucketAt(_time.GetUtcNow()));
            return found.State.Total;
        }
    }

    /// <summary>Every key with tokens in the window now, with the limit its last admitted request was checked against.</summary>
    public List<CounterUsage> Snapshot()
    {
        var bucket = BucketAt(_time.GetUtcNow());
        return _keys.Read((key, buckets) =>
        {
            buckets.Advance(bucket);
            return buckets.Total == 0 ? null : new CounterUsage(key, buckets.Total, buckets.Limit);
        });
    }

    private static long BucketAt(DateTimeOffset now) => now.UtcTicks / BucketSize.Ticks;

    /// <summary>The ring of one key: the charges of the buckets from <c>Newest - BucketCount + 1</c> to <c>Newest</c>.</summary>
    private sealed class Buckets : KeyState
    {
        private readonly long[] _charges = new long[BucketCount];
        private long _newest;

        public long Total { get; private set; }

        /// <summary>The limit of the last request admitted on the key (policies name the limit, not the counter).</summary>
        public long Limit { get; set; }

        public override bool IsIdle(DateTimeOffset now)
        {
            Advance(BucketAt(now));
            return Total == 0;
        }

        /// <summary>Moves the ring on to <paramref name="bucket"/>: the buckets that left the window are emptied.</summary>
        public void Advance(long bucket)
        {
            if (bucket <= _newest)
            {
                return;
            }

            if (bucket - _newest >= BucketCount)
            {
                Array.Clear(_charges);
                Total = 0;
            }
            else
            {
                for (var b = _newest + 1; b <= bucket; b++)
                {
                    Total -= _charges[b % BucketCount];
                    _charges[b % BucketCount] = 0;
                }
            }

            _newest = bucket;
        }

        public void Add(long bucket, long tokens)
        {
            _charges[bucket % BucketCount] += tokens;
            Total += tokens;
        }

        /// <summary>Takes <paramref name="tokens"/> out of <paramref name="bucket"/> unless it has left the window.</summary>
        public void Remove(long bucket, long tokens)
        {
            if (bucket > _newest - BucketCount && bucket <= _newest)
            {
                _charges[bucket % BucketCount] -= tokens;
                Total -= tokens;
            }
        }

        /// <summary>How long until <paramref name="excess"/> has left the window, oldest bucket first (the whole window if it never does).</summary>
        public TimeSpan Wait(long excess, DateTimeOffset now)
        {
            for (var b = _newest - BucketCount + 1; b <= _newest; b++)
            {
                excess -= _charges[b % BucketCount];
                if (excess <= 0)
                {
                    return new DateTimeOffset((b * BucketSize.Ticks) + Window.Ticks, TimeSpan.Zero) - now;
                }
            }

            // The request alone is more than the limit: the whole window has to pass.
            return Window;
        }
    }

    private sealed class WindowLease(SlidingWindowCounters counters, string key, Buckets admitted, long bucket, long charged, long remaining)
        : Lease(charged, remaining)
    {
        protected override void Replace(long charged, long count)
        {
            var now = counters._time.GetUtcNow();
            var current = BucketAt(now);
            using var locked = counters._keys.Lock(key, now);
            var buckets = locked.State;
            buckets.Advance(current);
            if (ReferenceEquals(buckets, admitted))
            {
                buckets.Remove(bucket, charged);
            }

            buckets.Add(current, count);
        }
    }
}
