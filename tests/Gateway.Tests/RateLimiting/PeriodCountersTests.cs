using Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

public sealed class PeriodCountersTests
{
    private static readonly DateTimeOffset Ten = new(2026, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Ten.AddMinutes(59));

    [Fact]
    public void Acquire_FullPeriod_IsRefusedUntilItEnds_ThenTheNextStartsAtZero()
    {
        var counters = new PeriodCounters(_time);
        counters.Acquire("k", Ten, Ten.AddHours(1), 2, 1, 1);
        counters.Acquire("k", Ten, Ten.AddHours(1), 2, 1, 1);

        var refused = counters.Acquire("k", Ten, Ten.AddHours(1), 2, 1, 1);
        _time.Advance(TimeSpan.FromMinutes(1));
        var next = counters.Acquire("k", Ten.AddHours(1), Ten.AddHours(2), 2, 1, 1);

        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromMinutes(1), refused.RetryAfter);
        Assert.True(next.IsAcquired);
        Assert.Equal(1, counters.Used("k", Ten.AddHours(1)));
    }

    [Fact]
    public void Acquire_WithAnEarlierPeriodThanTheKeys_CountsInTheKeysPeriod()
    {
        var counters = new PeriodCounters(_time);
        counters.Acquire("k", Ten.AddHours(1), Ten.AddHours(2), 5, 1, 1);

        // A request that read the clock just before the boundary: the key does not go back to the ended period.
        counters.Acquire("k", Ten, Ten.AddHours(1), 5, 1, 1);

        Assert.Equal(2, counters.Used("k", Ten.AddHours(1)));
        Assert.Equal(0, counters.Used("k", Ten));
    }

    [Fact]
    public void Release_GivesTheChargeBackInItsPeriod()
    {
        var counters = new PeriodCounters(_time);
        var lease = counters.Acquire("k", Ten, Ten.AddHours(1), 5, 3, 3);

        lease.Release();

        Assert.Equal(0, counters.Used("k", Ten));
    }
}
