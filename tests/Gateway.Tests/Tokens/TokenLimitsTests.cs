using Gateway.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tokens;

public sealed class TokenLimitsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 10, 59, 59, TimeSpan.Zero));

    [Fact]
    public void RateCharge_SettledMoreThanAMinuteAfterAdmission_CountsFromWhenItWasSettled()
    {
        var limits = new TokenLimits(_time);
        var charge = limits.ChargeRate("team", 10);

        // A long stream: admitted now, its usage (509 tokens) known 61 seconds later.
        _time.Advance(TimeSpan.FromSeconds(61));
        charge.Settle(509);

        Assert.Equal(509, limits.RateConsumed("team"));
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(0, limits.RateConsumed("team"));
    }

    [Fact]
    public void QuotaCharge_SettledAfterThePeriodEnded_CorrectsItsOwnPeriodNotTheNext()
    {
        var limits = new TokenLimits(_time);
        var charge = limits.ChargeQuota("team", TokenQuotaPeriod.Hourly, 2000);

        _time.Advance(TimeSpan.FromSeconds(2));
        charge.Settle(0);

        Assert.Equal(0, limits.QuotaUsed("team", TokenQuotaPeriod.Hourly).Used);
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero), limits.QuotaUsed("team", TokenQuotaPeriod.Hourly).Ends);
    }

    [Fact]
    public void Keys_WithNothingLeftInTheirWindow_AreDroppedOnceThereAreMany()
    {
        var limits = new TokenLimits(_time);
        for (var i = 0; i < 5000; i++)
        {
            limits.ChargeRate("ip-" + i, 1);
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        limits.ChargeRate("late", 1);

        Assert.Equal(1, limits.Count);
    }
}
