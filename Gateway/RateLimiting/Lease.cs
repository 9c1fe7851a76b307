namespace Gateway.RateLimiting;

/// <summary>
/// One request's admission by a limiter: the one shape every limiter answers in (after aspnetcore's rate-limiting
/// lease). The limiter checks and charges in one step under the key's own lock, so concurrent requests cannot all pass
/// the check before any is counted. An acquired lease holds its charge until it is settled, once, with what the request
/// finally counts for (the tokens it consumed, the bytes it moved, a call counted under an increment condition);
/// releasing it settles it at zero (a concurrency slot left, or the charge of a request that a later limit refused).
/// A refused lease tells how long until the request would fit.
/// </summary>
internal abstract class Lease
{
    private long _charged;
    private int _settled;

    protected Lease(long charged, long remaining)
    {
        _charged = charged;
        Remaining = remaining;
    }

    /// <summary>Whether the request was admitted.</summary>
    public virtual bool IsAcquired => true;

    /// <summary>When refused, how long until the request would fit (as far as the limiter can tell); zero when acquired.</summary>
    public virtual TimeSpan RetryAfter => TimeSpan.Zero;

    /// <summary>What is left under the limit once this request's need is counted; zero when refused.</summary>
    public long Remaining { get; }

    /// <summary>What the request counts for in the limiter now: its charge at admission, then what it was settled with.</summary>
    public long Charged => Interlocked.Read(ref _charged);

    /// <summary>A refused request's lease; settling it does nothing.</summary>
    public static Lease Refused(TimeSpan retryAfter) => new RefusedLease(retryAfter);

    /// <summary>
    /// The admission rule of every limiter: the key's count, less what this request already holds on it through another
    /// policy (<paramref name="own"/>), plus what it needs, must not pass the limit.
    /// </summary>
    public static bool Admits(long used, long own, long need, long limit) => used - own + need <= limit;

    /// <summary>Replaces the charge with <paramref name="count"/>; only the first settlement counts.</summary>
    public void Settle(long count)
    {
        if (Interlocked.Exchange(ref _settled, 1) == 0)
        {
            Replace(Charged, count);
            Interlocked.Exchange(ref _charged, count);
        }
    }

    /// <summary>Gives the charge back: <see cref="Settle"/> at zero.</summary>
    public void Release() => Settle(0);

    /// <summary>Takes <paramref name="charged"/> out of the limiter's counts and puts <paramref name="count"/> in (called once).</summary>
    protected abstract void Replace(long charged, long count);

    private sealed class RefusedLease(TimeSpan retryAfter) : Lease(0, 0)
    {
        public override bool IsAcquired => false;

        public override TimeSpan RetryAfter => retryAfter;

        protected override void Replace(long charged, long count)
        {
        }
    }
}
