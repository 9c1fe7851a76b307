using Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

public sealed class KeyedStatesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Lock_IdleKeys_AreForgottenAtMostOncePerSweepInterval()
    {
        var states = new KeyedStates<Flag>(_time);
        for (var i = 0; i < 100; i++)
        {
            using var locked = states.Lock("idle-" + i, _time.GetUtcNow());
            locked.State.Idle = true;
        }

        _time.Advance(KeyedStates<Flag>.SweepInterval / 2);
        using (states.Lock("busy", _time.GetUtcNow()))
        {
        }

        var beforeTheInterval = states.Count;
        _time.Advance(KeyedStates<Flag>.SweepInterval / 2);
        using (states.Lock("busy", _time.GetUtcNow()))
        {
        }

        Assert.Equal(101, beforeTheInterval);
        Assert.Equal(1, states.Count);
    }

    [Fact]
    public void TryFind_KeyNeverLocked_FindsNothingAndCreatesNothing()
    {
        var states = new KeyedStates<Flag>(_time);

        Assert.False(states.TryFind("absent", out _));
        Assert.Equal(0, states.Count);
    }

    [Fact]
    public void Lock_SameKeyFromManyThreads_GivesOneStateAtATime()
    {
        var states = new KeyedStates<Flag>(_time);

        Parallel.For(0, 10_000, _ =>
        {
            using var locked = states.Lock("k", _time.GetUtcNow());
            locked.State.Visits++;
        });

        using var found = states.Lock("k", _time.GetUtcNow());
        Assert.Equal(10_000, found.State.Visits);
    }

    private sealed class Flag : KeyState
    {
        public bool Idle { get; set; }

        public int Visits { get; set; }

        public override bool IsIdle(DateTimeOffset now) => Idle;
    }
}
