using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// The side-by-side comparison: one trivial backend for the whole run; per round, each target in turn (the order
/// reversed every other round, so a drift of the machine does not favour one end of the table) is started, warmed up,
/// loaded saturated, paced and streamed, measured, and stopped. The table gives each figure's median over the rounds.
/// </summary>
internal sealed class SideBySideRun(BenchSettings settings, TargetLauncher launcher, StreamProbe probe, TextWriter output, TextWriter progress)
{
    private const int StreamWarmup = 5;

    public async Task<bool> RunAsync()
    {
        var loadBefore = RunConditions.LoadAverage();
        var started = DateTimeOffset.UtcNow;
        var measurements = new List<Measurement>();
        var mixes = Target.All.ToDictionary(t => t, _ => new StatusMix());
        var gc = new Dictionary<Target, GcMode>();
        var trips = Target.All.ToDictionary(t => t, _ => 0);
        using var backend = await launcher.StartAsync(Target.Backend, "backend");
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var order = round % 2 == 1 ? Target.All : Target.All.Reverse();
            foreach (var target in order)
            {
                progress.WriteLine($"round {round}/{settings.Rounds}: {target.Title}");
                using var own = target.Kind == TargetKind.Backend ? null : await launcher.StartAsync(target, $"{target.Key}-round{round}");
                var running = own ?? backend;
                measurements.Add(await MeasureAsync(running, round, mixes[target]));
                gc[target] = GcMode.Of(running.Process);
                trips[target] += own is null ? 0 : own.Process.CountLines(BreakerTripped);
            }
        }

        Report(measurements, mixes, gc, trips, started, loadBefore);
        return mixes.Values.All(m => m.AllSuccessful);
    }

    private async Task<Measurement> MeasureAsync(RunningTarget running, int round, StatusMix mix)
    {
        var pid = running.Process.Pid;
        mix.Add(await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, settings.Warmup, settings.Pin));
        await launcher.AfterLoadAsync(running);

        var cpuBefore = ProcStats.CpuSeconds(pid);
        var saturated = await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, settings.Saturated, settings.Pin);
        var cpu = ProcStats.CpuSeconds(pid) - cpuBefore;
        mix.Add(saturated);
        await launcher.AfterLoadAsync(running);

        var paced = await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.PacedConnections, settings.Paced, settings.Pin, BenchSettings.PacedThinkMilliseconds);
        mix.Add(paced);
        await launcher.AfterLoadAsync(running);

        var firstEvent = await probe.MedianFirstEventAsync(running.Url, StreamWarmup, settings.Streams, mix);
        var measurement = new Measurement(
            running.Target,
            round,
            saturated.RequestsPerSecond,
            saturated.Requests == 0 ? double.NaN : cpu * 1e6 / saturated.Requests,
            paced.P50Us / 1000.0,
            paced.P99Us / 1000.0,
            firstEvent,
            ProcStats.RssMegabytes(pid));
        progress.WriteLine($"  {measurement.SaturatedRps:F0} RPS, {measurement.CpuMicrosecondsPerRequest:F0} µs CPU/request, paced p50 {measurement.PacedP50Ms:F2} ms p99 {measurement.PacedP99Ms:F2} ms, first event {measurement.FirstEventMs:F2} ms, RSS {measurement.RssMegabytes:F0} MB; {mix}");
        return measurement;
    }

    private void Report(List<Measurement> measurements, Dictionary<Target, StatusMix> mixes, Dictionary<Target, GcMode> gc, Dictionary<Target, int> trips, DateTimeOffset started, string loadBefore)
    {
        var yarp = measurements.Where(m => m.Target == Target.Yarp).ToDictionary(m => m.Round, m => m.SaturatedRps);
        output.WriteLine($"## Side by side, {started:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine();
        output.WriteLine($"- machine: {RunConditions.Machine()}");
        output.WriteLine($"- load average (1/5/15 min): {loadBefore} before, {RunConditions.LoadAverage()} after; {(DateTimeOffset.UtcNow - started).TotalMinutes:F1} minutes");
        output.WriteLine($"- {settings.Rounds} rounds, targets alternated (order reversed every other round); per target and round: a new process, "
            + $"{settings.Warmup.TotalSeconds:F0} s warm-up, saturated `wrk -t1 -c{BenchSettings.SaturatedConnections} -d{settings.Saturated.TotalSeconds:F0}s`, "
            + $"paced `wrk -t1 -c{BenchSettings.PacedConnections} -d{settings.Paced.TotalSeconds:F0}s` with {BenchSettings.PacedThinkMilliseconds} ms think time, "
            + $"{settings.Streams} sequential streamed requests; figures are medians over the rounds");
        output.WriteLine($"- CPUs: {CpuPinning.Describe(settings.Pin)}");
        output.WriteLine();
        output.WriteLine("| target | saturated RPS | ratio to bare YARP (same run) | paced p50/p99 ms | TTFB streamed ms | RSS MB | CPU µs/request | status mix |");
        output.WriteLine("|---|--:|--:|--:|--:|--:|--:|---|");
        foreach (var target in Target.All)
        {
            var own = measurements.Where(m => m.Target == target).ToList();
            var ratio = Stats.Median(own.Select(m => yarp.TryGetValue(m.Round, out var y) ? m.SaturatedRps / y : double.NaN));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {target.Title} | {Stats.Median(own.Select(m => m.SaturatedRps)):N0} | {ratio:F2}× | "
                + $"{Stats.Median(own.Select(m => m.PacedP50Ms)):F2} / {Stats.Median(own.Select(m => m.PacedP99Ms)):F2} | "
                + $"{Stats.Median(own.Select(m => m.FirstEventMs)):F2} | {Stats.Median(own.Select(m => m.RssMegabytes)):F0} | "
                + $"{Stats.Median(own.Select(m => m.CpuMicrosecondsPerRequest)):F0} | {mixes[target]} |"));
        }

        output.WriteLine();
        output.WriteLine("Each round:");
        output.WriteLine();
        output.WriteLine("| round | target | saturated RPS | ratio to bare YARP | paced p50/p99 ms | TTFB ms | RSS MB | CPU µs/request |");
        output.WriteLine("|--:|---|--:|--:|--:|--:|--:|--:|");
        foreach (var m in measurements.OrderBy(m => m.Round).ThenBy(m => Target.All.ToList().IndexOf(m.Target)))
        {
            var ratio = yarp.TryGetValue(m.Round, out var y) ? m.SaturatedRps / y : double.NaN;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {m.Round} | {m.Target.Title} | {m.SaturatedRps:N0} | {ratio:F2}× | {m.PacedP50Ms:F2} / {m.PacedP99Ms:F2} | {m.FirstEventMs:F2} | {m.RssMegabytes:F0} | {m.CpuMicrosecondsPerRequest:F0} |"));
        }

        output.WriteLine();
        output.WriteLine("Processes (GC as configured in each runtimeconfig.json, GC threads as seen in /proc after the last round; telemetry):");
        output.WriteLine();
        foreach (var target in Target.All.Where(gc.ContainsKey))
        {
            output.WriteLine($"- {target.Title}: GC {gc[target]}; telemetry: {Telemetry(target)}");
        }

        output.WriteLine();
        output.WriteLine("Circuit breakers tripped (the gateway's log; with the trivial backend only requests that wrk cuts off at the end "
            + "of a load trip one), closed again before each load: " + string.Join(", ", Target.All.Where(t => t.Kind == TargetKind.Gateway).Select(t => $"{t.Key} {trips[t]}")));
    }

    /// <summary>What the gateway logs when a breaker trips (Gateway/Backends/CircuitBreakers.cs).</summary>
    public const string BreakerTripped = "circuit breaker rule";

    /// <summary>What each kind of process does with telemetry; the harness starts every process without OTEL_* variables.</summary>
    public static string Telemetry(Target target) => target.Kind == TargetKind.Gateway
        ? "no OpenTelemetry metrics, traces or logs: ServiceDefaults registers them only when an OTLP endpoint is set (none here); "
            + "the gateway's own meters have no listener but its page's token totals (in process): nothing exported"
        : "none (no OpenTelemetry in the process), nothing exported";
}
