using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// A fake clock that also records the due time of every timer started on it, so that a test advances it only once the
/// wait it means to end has begun.
/// </summary>
internal sealed class ObservedTime(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ConcurrentQueue<TimeSpan> _timers = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _timers.Enqueue(dueTime);
        }

        return timer;
    }

    /// <summary>Waits (in real time, at most <paramref name="timeout"/>) until a timer of <paramref name="dueTime"/> has been started.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (!_timers.Contains(dueTime))
        {
            Assert.True(waited.Elapsed < timeout, $"no timer of {dueTime} was started");
            await Task.Delay(10);
        }
    }
}
