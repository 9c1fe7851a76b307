using Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

public sealed class SlidingWindowCountersTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Acquire_OverTheLimit_WaitsUntilTheOldestChargesLeaveWithTheirSecond()
    {
        var window = new SlidingWindowCounters(_time);
        window.Acquire("k", 100, 40, 40);
        _time.Advance(TimeSpan.FromMilliseconds(10_700));
        window.Acquire("k", 100, 40, 40);
        _time.Advance(TimeSpan.FromSeconds(5));

        // 80 used, 30 more needed: 10 must leave, so the first charge (its second starts at 10:00:00) must go, at 10:01:00.
        var refused = window.Acquire("k", 100, 30, 30);
        var tooBig = window.Acquire("k", 100, 101, 101);

        Assert.False(refused.IsAcquired);
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 10, 1, 0, TimeSpan.Zero) - _time.GetUtcNow(), refused.RetryAfter);
        Assert.Equal(SlidingWindowCounters.Window, tooBig.RetryAfter);
    }

    [Fact]
    public void Used_AChargeMadeWithinASecond_LeavesWithThatSecondsBucket()
    {
        var window = new SlidingWindowCounters(_time);
        _time.Advance(TimeSpan.FromMilliseconds(900));
        window.Acquire("k", 100, 5, 5);

        // At most one bucket (a second) early: charged at 10:00:00.9, gone at 10:01:00.0.
        _time.Advance(TimeSpan.FromMilliseconds(59_090));
        var justBefore = window.Used("k");
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Equal(5, justBefore);
        Assert.Equal(0, window.Used("k"));
    }

    [Fact]
    public void Acquire_Admitted_ReportsWhatIsLeftOnceItsNeedCounts()
    {
        var window = new SlidingWindowCounters(_time);

        var first = window.Acquire("k", 100, 30, 30);
        var second = window.Acquire("k", 100, 30, 30);

        Assert.Equal(70, first.Remaining);
        Assert.Equal(40, second.Remaining);
    }

    [Fact]
    public void Settle_TwiceOrAfterRelease_CountsOnlyTheFirst()
    {
        var window = new SlidingWindowCounters(_time);
        var lease = window.Acquire("k", 100, 30, 30);

        lease.Settle(50);
        lease.Settle(70);
        lease.Release();

        Assert.Equal(50, window.Used("k"));
        Assert.Equal(50, lease.Charged);
    }

    [Fact]
    public void Settle_AfterTheKeyWasSwept_CountsInTheKeysNewState()
    {
        var window = new SlidingWindowCounters(_time);
        var lease = window.Acquire("k", 100, 0, 0);

        // Nothing charged: the key is idle, and the sweep (due after a minute) forgets it before the usage is known.
        _time.Advance(TimeSpan.FromMinutes(2));
        window.Acquire("other", 100, 1, 1);
        var keysAfterSweep = window.Count;
        lease.Settle(20);

        Assert.Equal(1, keysAfterSweep);
        Assert.Equal(20, window.Used("k"));
    }

    [Fact]
    public void Acquire_ManyConcurrentRequestsOnOneKey_AdmitsExactlyWhatFits()
    {
        var window = new SlidingWindowCounters(_time);

        var admitted = 0;
        Parallel.For(0, 2000, _ =>
        {
            if (window.Acquire("k", 1000, 3, 3).IsAcquired)
            {
                Interlocked.Increment(ref admitted);
            }
        });

        Assert.Equal(333, admitted);
        Assert.Equal(999, window.Used("k"));
    }
}
