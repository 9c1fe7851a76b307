using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Tests.Scheduling;

public sealed class TrafficScheduleTests
{
    [Fact]
    public void NextAfter_Steady_IsOneIntervalOfTheRateLater()
    {
        var schedule = new TrafficSchedule(new TrafficOptions { RequestsPerSecond = 4 });

        Assert.Equal(TimeSpan.FromMilliseconds(250), schedule.NextAfter(TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(100.25), schedule.NextAfter(TimeSpan.FromSeconds(100)));
        Assert.False(schedule.InBurst(TimeSpan.FromSeconds(100)));
    }

    [Fact]
    public void NextAfter_Bursty_QuietRateThenTheBurstOnTime_ThenQuietAgain()
    {
        var schedule = new TrafficSchedule(Bursty(quietRate: 1, quiet: 10, burstRate: 10, length: 2));

        var due = DueTimes(schedule, until: TimeSpan.FromSeconds(24));

        // Cycle of 12 s: 10 quiet requests (0..9 s), 20 in the burst (10.0..11.9 s), and again.
        Assert.Equal(10, due.Count(d => d < TimeSpan.FromSeconds(10)));
        Assert.Equal(20, due.Count(d => d >= TimeSpan.FromSeconds(10) && d < TimeSpan.FromSeconds(12)));
        Assert.Equal(10, due.Count(d => d >= TimeSpan.FromSeconds(12) && d < TimeSpan.FromSeconds(22)));
        Assert.Contains(TimeSpan.FromSeconds(10), due);
        Assert.Contains(TimeSpan.FromSeconds(22), due);
    }

    [Fact]
    public void NextAfter_QuietIntervalLongerThanTheQuietPeriod_TheBurstStillStartsOnTime()
    {
        var schedule = new TrafficSchedule(Bursty(quietRate: 0.01, quiet: 20, burstRate: 5, length: 1));

        Assert.Equal(TimeSpan.FromSeconds(20), schedule.NextAfter(TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(20.2), schedule.NextAfter(TimeSpan.FromSeconds(20)));

        // The burst's last request leads to the next cycle's quiet period at once.
        Assert.Equal(TimeSpan.FromSeconds(21), schedule.NextAfter(TimeSpan.FromSeconds(20.8)));
    }

    [Fact]
    public void RateAt_Bursty_RepeatsEveryCycle()
    {
        var schedule = new TrafficSchedule(Bursty(quietRate: 2, quiet: 20, burstRate: 30, length: 5));

        Assert.Equal(2, schedule.RateAt(TimeSpan.FromSeconds(19.9)));
        Assert.Equal(30, schedule.RateAt(TimeSpan.FromSeconds(20)));
        Assert.Equal(30, schedule.RateAt(TimeSpan.FromSeconds(24.9)));
        Assert.Equal(2, schedule.RateAt(TimeSpan.FromSeconds(25)));
        Assert.Equal(30, schedule.RateAt(TimeSpan.FromSeconds(95)));
    }

    private static TrafficOptions Bursty(double quietRate, double quiet, double burstRate, double length) => new()
    {
        Mode = TrafficMode.Bursty,
        RequestsPerSecond = quietRate,
        Burst = new BurstOptions { QuietPeriod = TimeSpan.FromSeconds(quiet), Length = TimeSpan.FromSeconds(length), RequestsPerSecond = burstRate },
    };

    private static List<TimeSpan> DueTimes(TrafficSchedule schedule, TimeSpan until)
    {
        var due = new List<TimeSpan>();
        for (var next = TimeSpan.Zero; next < until; next = schedule.NextAfter(next))
        {
            due.Add(next);
        }

        return due;
    }
}
