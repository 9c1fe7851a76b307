using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// The side-by-side comparison: one trivial backend and one process per target for the whole run, each warmed up in
/// turn; then many short rounds, in each of which every target in turn (the order reversed every other round) takes a
/// saturated load of a few seconds, and in some rounds a paced load. A round's targets are measured within seconds of
/// each other, so a drift of the machine (this kind of machine serves the same process at speeds a third apart over
/// tens of seconds) weighs on them alike: each ratio to bare YARP is taken within its round, and the table gives the
/// medians over the rounds, and the middle half of the ratios. Streamed requests and RSS are measured once per target,
/// after the rounds.
/// </summary>
internal sealed class SideBySideRun(BenchSettings settings, TargetLauncher launcher, StreamProbe probe, TextWriter output, TextWriter progress)
{
    private const int StreamWarmup = 5;

    public async Task<bool> RunAsync()
    {
        var loadBefore = RunConditions.LoadAverage();
        var started = DateTimeOffset.UtcNow;
        var targets = settings.Compared;
        var mixes = targets.ToDictionary(t => t, _ => new StatusMix());
        using var backend = await launcher.StartAsync(Target.Backend, "backend");
        var running = new Dictionary<Target, RunningTarget> { [Target.Backend] = backend };
        try
        {
            foreach (var target in targets)
            {
                progress.WriteLine($"warm-up: {target.Title}");
                if (target.Kind != TargetKind.Backend)
                {
                    running[target] = await launcher.StartAsync(target, target.Key);
                }

                mixes[target].Add(await Wrk.RunAsync(running[target].Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, settings.Warmup, settings.Pin));
                await launcher.AfterLoadAsync(running[target]);
            }

            var measurements = new List<Measurement>();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                // Every saturated load of the round first, then (in a paced round) every paced load: the saturated loads
                // stay within seconds of each other.
                var order = round % 2 == 1 ? targets : [.. targets.Reverse()];
                var saturated = new List<Measurement>();
                foreach (var target in order)
                {
                    var measurement = await SaturatedAsync(running[target], round, mixes[target]);
                    saturated.Add(measurement);
                    progress.WriteLine($"round {round}/{settings.Rounds}, {target.Title}: {measurement.SaturatedRps:F0} RPS, {measurement.CpuMicrosecondsPerRequest:F0} µs CPU/request ({measurement.SystemMicrosecondsPerRequest:F0} kernel)");
                }

                foreach (var measurement in saturated)
                {
                    var paced = settings.PacesIn(round) ? await PacedAsync(running[measurement.Target], mixes[measurement.Target]) : measurement;
                    measurements.Add(paced);
                    if (!double.IsNaN(paced.PacedP50Ms))
                    {
                        progress.WriteLine($"round {round}/{settings.Rounds}, {paced.Target.Title}: paced p50 {paced.PacedP50Ms:F2} ms p99 {paced.PacedP99Ms:F2} ms");
                    }

                    async Task<Measurement> PacedAsync(RunningTarget target, StatusMix mix)
                    {
                        var load = await Wrk.RunAsync(target.Url, launcher.SubscriptionKey, BenchSettings.PacedConnections, settings.Paced, settings.Pin, BenchSettings.PacedThinkMilliseconds);
                        mix.Add(load);
                        await launcher.AfterLoadAsync(target);
                        return measurement with { PacedP50Ms = load.P50Us / 1000.0, PacedP99Ms = load.P99Us / 1000.0 };
                    }
                }
            }

            var ends = new List<TargetEnd>();
            foreach (var target in targets)
            {
                var process = running[target].Process;
                var firstEvent = await probe.MedianFirstEventAsync(running[target].Url, StreamWarmup, settings.Streams, mixes[target]);
                ends.Add(new TargetEnd(target, firstEvent, ProcStats.RssMegabytes(process.Pid), GcMode.Of(process),
                    target.Kind == TargetKind.Gateway ? process.CountLines(BreakerTripped) : 0));
                progress.WriteLine($"streamed, {target.Title}: first event {firstEvent:F2} ms; RSS {ends[^1].RssMegabytes:F0} MB; {mixes[target]}");
            }

            Report(measurements, ends, mixes, started, loadBefore);
            return mixes.Values.All(m => m.AllSuccessful);
        }
        finally
        {
            foreach (var own in running.Values.Where(r => r != backend))
            {
                own.Dispose();
            }
        }
    }

    /// <summary>The saturated load of one round; the paced figures NaN until a paced load gives them.</summary>
    private async Task<Measurement> SaturatedAsync(RunningTarget running, int round, StatusMix mix)
    {
        var pid = running.Process.Pid;
        var cpuBefore = ProcStats.CpuTimes(pid);
        var saturated = await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, settings.Saturated, settings.Pin);
        var cpu = ProcStats.CpuTimes(pid) - cpuBefore;
        mix.Add(saturated);
        await launcher.AfterLoadAsync(running);
        return new Measurement(
            running.Target,
            round,
            saturated.RequestsPerSecond,
            saturated.Requests == 0 ? double.NaN : cpu.Total * 1e6 / saturated.Requests,
            saturated.Requests == 0 ? double.NaN : cpu.System * 1e6 / saturated.Requests,
            double.NaN,
            double.NaN);
    }

    private void Report(List<Measurement> measurements, List<TargetEnd> ends, Dictionary<Target, StatusMix> mixes, DateTimeOffset started, string loadBefore)
    {
        var yarp = measurements.Where(m => m.Target == Target.Yarp).ToDictionary(m => m.Round, m => m.SaturatedRps);
        double Ratio(Measurement m) => yarp.TryGetValue(m.Round, out var y) ? m.SaturatedRps / y : double.NaN;
        output.WriteLine($"## Side by side, {started:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine();
        output.WriteLine($"- machine: {RunConditions.Machine()}");
        output.WriteLine($"- load average (1/5/15 min): {loadBefore} before, {RunConditions.LoadAverage()} after; {(DateTimeOffset.UtcNow - started).TotalMinutes:F1} minutes");
        output.WriteLine($"- one process per target for the whole run, each warmed up with {settings.Warmup.TotalSeconds:F0} s of saturated load; "
            + $"then {settings.Rounds} rounds, each target in turn (order reversed every other round): saturated `wrk -t1 -c{BenchSettings.SaturatedConnections} -d{settings.Saturated.TotalSeconds:F0}s`, "
            + $"then, in rounds 1, {1 + settings.PacedEvery}, {1 + (2 * settings.PacedEvery)}… (every {settings.PacedEvery}), paced `wrk -t1 -c{BenchSettings.PacedConnections} -d{settings.Paced.TotalSeconds:F0}s` with {BenchSettings.PacedThinkMilliseconds} ms think time; "
            + $"ratios taken within each round; figures are medians over the rounds (ratio: median, and the middle half of the rounds, 25th–75th percentile); "
            + $"after the rounds, {settings.Streams} sequential streamed requests per target, and its RSS");
        output.WriteLine($"- CPUs: {CpuPinning.Describe(settings.Pin)}");
        output.WriteLine();
        output.WriteLine("| target | saturated RPS | ratio to bare YARP (same round; middle half) | paced p50/p99 ms | TTFB streamed ms | RSS MB | CPU µs/request (kernel) | status mix |");
        output.WriteLine("|---|--:|--:|--:|--:|--:|--:|---|");
        foreach (var end in ends)
        {
            var own = measurements.Where(m => m.Target == end.Target).ToList();
            var ratios = own.Select(Ratio).ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {end.Target.Title} | {Stats.Median(own.Select(m => m.SaturatedRps)):N0} | {Stats.Median(ratios):F2}× ({Stats.Quantile(ratios, 0.25):F2}–{Stats.Quantile(ratios, 0.75):F2}) | "
                + $"{Stats.Median(own.Select(m => m.PacedP50Ms)):F2} / {Stats.Median(own.Select(m => m.PacedP99Ms)):F2} | "
                + $"{end.FirstEventMs:F2} | {end.RssMegabytes:F0} | "
                + $"{Stats.Median(own.Select(m => m.CpuMicrosecondsPerRequest)):F0} ({Stats.Median(own.Select(m => m.SystemMicrosecondsPerRequest)):F0}) | {mixes[end.Target]} |"));
        }

        if (settings.Baseline is { } baseline && measurements.Any(m => m.Target == Target.Shipped))
        {
            // The change against what it changes, each round on its own: the shipped policy over the baseline's.
            var before = measurements.Where(m => m.Target == baseline).ToDictionary(m => m.Round);
            var changes = measurements.Where(m => m.Target == Target.Shipped && before.ContainsKey(m.Round))
                .Select(m => (Rps: m.SaturatedRps / before[m.Round].SaturatedRps, Cpu: m.CpuMicrosecondsPerRequest / before[m.Round].CpuMicrosecondsPerRequest)).ToList();
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"This checkout's shipped policy over the baseline's, within each round: saturated RPS {Stats.Median(changes.Select(c => c.Rps)):F3}× "
                + $"(middle half {Stats.Quantile(changes.Select(c => c.Rps), 0.25):F3}–{Stats.Quantile(changes.Select(c => c.Rps), 0.75):F3}), "
                + $"CPU per request {Stats.Median(changes.Select(c => c.Cpu)):F3}× ({Stats.Quantile(changes.Select(c => c.Cpu), 0.25):F3}–{Stats.Quantile(changes.Select(c => c.Cpu), 0.75):F3}), "
                + $"over {changes.Count} rounds."));
        }

        output.WriteLine();
        output.WriteLine("Each round:");
        output.WriteLine();
        output.WriteLine("| round | target | saturated RPS | ratio to bare YARP | paced p50/p99 ms | CPU µs/request (kernel) |");
        output.WriteLine("|--:|---|--:|--:|--:|--:|");
        var order = settings.Compared.ToList();
        foreach (var m in measurements.OrderBy(m => m.Round).ThenBy(m => order.IndexOf(m.Target)))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {m.Round} | {m.Target.Title} | {m.SaturatedRps:N0} | {Ratio(m):F2}× | {(double.IsNaN(m.PacedP50Ms) ? "–" : $"{m.PacedP50Ms:F2} / {m.PacedP99Ms:F2}")} | {m.CpuMicrosecondsPerRequest:F0} ({m.SystemMicrosecondsPerRequest:F0}) |"));
        }

        output.WriteLine();
        output.WriteLine("Processes (GC as configured in each runtimeconfig.json, GC threads as seen in /proc after the rounds; telemetry):");
        output.WriteLine();
        foreach (var end in ends)
        {
            output.WriteLine($"- {end.Target.Title}: GC {end.Gc}; telemetry: {Telemetry(end.Target)}");
        }

        output.WriteLine();
        output.WriteLine("Circuit breakers tripped (the gateway's log; with the trivial backend only requests that wrk cuts off at the end "
            + "of a load trip one), closed again before each load: " + string.Join(", ", ends.Where(e => e.Target.Kind == TargetKind.Gateway).Select(e => $"{e.Target.Key} {e.BreakerTrips}")));
    }

    /// <summary>What the gateway logs when a breaker trips (Gateway/Backends/CircuitBreakers.cs).</summary>
    public const string BreakerTripped = "circuit breaker rule";

    /// <summary>What each kind of process does with telemetry; the harness starts every process without OTEL_* variables.</summary>
    public static string Telemetry(Target target) => target.Kind == TargetKind.Gateway
        ? "no OpenTelemetry metrics, traces or logs: ServiceDefaults registers them only when an OTLP endpoint is set (none here); "
            + "the gateway's own meters have no listener but its page's token totals (in process): nothing exported"
        : "none (no OpenTelemetry in the process), nothing exported";
}
