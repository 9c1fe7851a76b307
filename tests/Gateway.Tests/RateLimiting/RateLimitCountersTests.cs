using Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

public sealed class RateLimitCountersTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Acquire_ManyConcurrentCallsOnOneKey_AdmitsExactlyTheLimit()
    {
        var counters = new RateLimitCounters(_time);

        var admitted = 0;
        Parallel.For(0, 1000, _ =>
        {
            if (counters.Acquire("k", 100, TimeSpan.FromMinutes(1), charge: 1).IsAcquired)
            {
                Interlocked.Increment(ref admitted);
            }
        });

        Assert.Equal(100, admitted);
    }

    [Fact]
    public void Settle_AfterTheWindowRenewed_CountsInTheNewWindow()
    {
        var counters = new RateLimitCounters(_time);

        // Under an increment condition: checked at admission, counted once the response is known.
        var lease = counters.Acquire("k", 1, TimeSpan.FromSeconds(30), charge: 0);
        _time.Advance(TimeSpan.FromSeconds(31));
        lease.Settle(1);
        var refused = counters.Acquire("k", 1, TimeSpan.FromSeconds(30), charge: 1);

        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.RetryAfter);
    }
}
