using Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

public sealed class ConcurrencyLimitsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Acquire_AtMaxCount_IsRefusedUntilASlotIsReleased_OncePerSlot()
    {
        var limits = new ConcurrencyLimits(_time);
        var first = limits.Acquire("k", 2);
        limits.Acquire("k", 2);

        var refused = limits.Acquire("k", 2);
        first.Release();
        first.Release();
        var admitted = limits.Acquire("k", 2);
        var refusedAgain = limits.Acquire("k", 2);

        Assert.False(refused.IsAcquired);
        Assert.True(admitted.IsAcquired);
        Assert.False(refusedAgain.IsAcquired);
        Assert.Equal(2, limits.Inside("k"));
    }

    [Fact]
    public void Inside_KeyWithSlotsTaken_IsNeverSwept()
    {
        var limits = new ConcurrencyLimits(_time);
        limits.Acquire("long", 1);

        _time.Advance(TimeSpan.FromMinutes(5));
        limits.Acquire("other", 1).Release();

        Assert.Equal(1, limits.Inside("long"));
        Assert.False(limits.Acquire("long", 1).IsAcquired);
    }
}
