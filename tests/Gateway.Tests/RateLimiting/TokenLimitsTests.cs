using Gateway.RateLimiting;
using Gateway.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

public sealed class TokenLimitsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 10, 59, 59, TimeSpan.Zero));

    [Fact]
    public void RateLease_SettledMoreThanAMinuteAfterAdmission_CountsFromWhenItWasSettled()
    {
        var limits = new TokenLimits(_time);
        var lease = limits.AcquireRate("team", 1000, 10, held: null);

        // A long stream: admitted now, its usage (509 tokens) known 61 seconds later.
        _time.Advance(TimeSpan.FromSeconds(61));
        lease.Settle(509);

        Assert.Equal(509, limits.RateUsed("team"));
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(0, limits.RateUsed("team"));
    }

    [Fact]
    public void QuotaLease_SettledAfterThePeriodEnded_CorrectsItsOwnPeriodNotTheNext()
    {
        var limits = new TokenLimits(_time);
        var lease = limits.AcquireQuota("team", TokenQuotaPeriod.Hourly, 5000, 2000, held: null);

        _time.Advance(TimeSpan.FromSeconds(2));
        limits.AcquireQuota("team", TokenQuotaPeriod.Hourly, 5000, 30, held: null);
        lease.Settle(0);

        Assert.Equal(30, limits.QuotaUsed("team", TokenQuotaPeriod.Hourly));
    }

    [Fact]
    public void AcquireRate_WithALeaseHeldOnTheKey_ChecksWithoutItAndChargesNothingMore()
    {
        var limits = new TokenLimits(_time);
        var held = limits.AcquireRate("team", 100, 60, held: null);

        var again = limits.AcquireRate("team", 100, 60, held);
        var other = limits.AcquireRate("team", 100, 60, held: null);

        Assert.True(again.IsAcquired);
        Assert.False(other.IsAcquired);
        Assert.Equal(60, limits.RateUsed("team"));
    }

    [Fact]
    public void Keys_WithNothingLeftInTheirWindow_AreDroppedByTheNextSweep()
    {
        var limits = new TokenLimits(_time);
        for (var i = 0; i < 5000; i++)
        {
            limits.AcquireRate("ip-" + i, 1000, 1, held: null);
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        limits.AcquireRate("late", 1000, 1, held: null);

        Assert.Equal(1, limits.Count);
    }
}
