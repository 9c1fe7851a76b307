using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Support;

/// <summary>
/// A fake clock that also records the due time of every timer started on it (each <c>Task.Delay</c> of a policy); timers
/// created without a due time (which the host creates and may never start) are not recorded.
/// </summary>
internal sealed class ObservedTime : FakeTimeProvider
{
    public ConcurrentQueue<TimeSpan> Timers { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Timers.Enqueue(dueTime);
        }

        return timer;
    }

    /// <summary>Waits (in real time, at most 30 s) until a timer of <paramref name="dueTime"/> has been started.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime)
    {
        var waited = Stopwatch.StartNew();
        while (!Timers.Contains(dueTime))
        {
            Assert.True(waited.Elapsed < TestTimeouts.Request, $"no timer of {dueTime} was started on the gateway's clock");
            await Task.Delay(10);
        }
    }
}
