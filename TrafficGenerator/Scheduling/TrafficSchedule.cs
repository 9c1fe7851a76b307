namespace TrafficGenerator.Scheduling;

/// <summary>
/// When requests are due, as offsets from the generator's start: at a steady rate, or in cycles of a quiet period at
/// the base rate followed by a burst. The schedule is open loop (it does not wait for answers), so a slow gateway sees
/// the same rate, never a retry storm; <see cref="TrafficOptions.MaxConcurrency"/> bounds what is in flight.
/// </summary>
internal sealed class TrafficSchedule(TrafficOptions options)
{
    private TimeSpan Cycle => options.Burst.QuietPeriod + options.Burst.Length;

    /// <summary>Requests per second at <paramref name="elapsed"/>.</summary>
    public double RateAt(TimeSpan elapsed) =>
        options.Mode == TrafficMode.Bursty && InBurst(elapsed) ? options.Burst.RequestsPerSecond : options.RequestsPerSecond;

    /// <summary>Whether <paramref name="elapsed"/> falls in a burst (bursty mode only).</summary>
    public bool InBurst(TimeSpan elapsed) =>
        options.Mode == TrafficMode.Bursty && Position(elapsed) >= options.Burst.QuietPeriod;

    /// <summary>
    /// The offset of the request after one due at <paramref name="due"/>: one interval of the current rate later, but
    /// no later than the start of the next phase, so a burst starts on time after a slow quiet rate.
    /// </summary>
    public TimeSpan NextAfter(TimeSpan due)
    {
        var next = due + TimeSpan.FromSeconds(1 / RateAt(due));
        if (options.Mode != TrafficMode.Bursty)
        {
            return next;
        }

        var position = Position(due);
        var phaseEnd = due - position + (position < options.Burst.QuietPeriod ? options.Burst.QuietPeriod : Cycle);
        return next < phaseEnd ? next : phaseEnd;
    }

    private TimeSpan Position(TimeSpan elapsed) => TimeSpan.FromTicks(elapsed.Ticks % Cycle.Ticks);
}
