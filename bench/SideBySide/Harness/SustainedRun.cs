using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// One target (the shipped policy by default) at saturation for a long time: back-to-back 10-second
/// <c>wrk -t1 -c32</c> runs on one process after a warm-up, each window's throughput, CPU per request and RSS, and
/// the last minute's throughput over the first minute's (the issue's target: at least 0.95). For a gateway, bare YARP
/// takes a <see cref="ReferenceProbe"/> load after each window: this machine's speed drifts over minutes (bare YARP
/// alone by 22 % in one run), which the last/first ratio of one process cannot tell from a gateway slowing down; the
/// gateway's ratio to bare YARP measured seconds later separates that slow drift. The raw last/first stays the target's
/// figure.
/// </summary>
internal sealed class SustainedRun(BenchSettings settings, TargetLauncher launcher, TextWriter output, TextWriter progress)
{
    /// <summary>Bare YARP's load after each of a gateway's windows.</summary>
    public static readonly TimeSpan ReferenceProbe = TimeSpan.FromSeconds(2);

    public async Task<bool> RunAsync()
    {
        var target = Target.All.SingleOrDefault(t => t.Key == settings.SustainedTarget)
            ?? throw new InvalidOperationException($"No target '{settings.SustainedTarget}': {string.Join(", ", Target.All.Select(t => t.Key))}");
        var duration = settings.Sustained!.Value;
        var loadBefore = RunConditions.LoadAverage();
        var started = DateTimeOffset.UtcNow;
        var mix = new StatusMix();
        using var backend = await launcher.StartAsync(Target.Backend, "backend");
        using var own = target.Kind == TargetKind.Backend ? null : await launcher.StartAsync(target, target.Key + "-sustained");
        var running = own ?? backend;
        var pid = running.Process.Pid;
        using var reference = target.Kind == TargetKind.Gateway ? await launcher.StartAsync(Target.Yarp, "yarp-reference") : null;
        var referenceMix = new StatusMix();

        // Bare YARP's saturated load, its answers counted apart; NaN RPS when it served nothing (or is not there).
        async Task<double> LoadReferenceAsync(TimeSpan length)
        {
            if (reference is null)
            {
                return double.NaN;
            }

            var result = await Wrk.RunAsync(reference.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, length, settings.Pin);
            referenceMix.Add(result);
            return result.Requests == 0 ? double.NaN : result.RequestsPerSecond;
        }

        await LoadReferenceAsync(BenchSettings.JitWarmup);

        mix.Add(await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, BenchSettings.JitWarmup, settings.Pin));
        await launcher.AfterLoadAsync(running);

        // Untimed: the reference's first measured probe should not be its first load after the gateway's warm-up.
        await LoadReferenceAsync(ReferenceProbe);

        var windows = new List<(double Rps, double Cpu, double Rss, double Reference)>();
        var count = (int)Math.Ceiling(duration / BenchSettings.Window);
        for (var i = 0; i < count; i++)
        {
            var cpuBefore = ProcStats.CpuSeconds(pid);
            var result = await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, BenchSettings.Window, settings.Pin);
            mix.Add(result);
            await launcher.AfterLoadAsync(running);
            var rss = ProcStats.RssMegabytes(pid);
            var referenceRps = await LoadReferenceAsync(ReferenceProbe);

            // Up to the next window: what the target does between loads (the GC's deferred work, say) counts too.
            var cpu = ProcStats.CpuSeconds(pid) - cpuBefore;
            windows.Add((result.RequestsPerSecond, result.Requests == 0 ? double.NaN : cpu * 1e6 / result.Requests, rss, referenceRps));
            progress.WriteLine($"  {(i + 1) * BenchSettings.Window.TotalSeconds:F0} s: {result.RequestsPerSecond:F0} RPS"
                + (reference is null ? "" : $" (bare YARP after it: {referenceRps:F0} RPS)"));
        }

        var perMinute = (int)(TimeSpan.FromMinutes(1) / BenchSettings.Window);
        var first = windows.Take(perMinute).Average(w => w.Rps);
        var last = windows.TakeLast(perMinute).Average(w => w.Rps);
        output.WriteLine($"## Sustained: {target.Title}, {duration.TotalSeconds:F0} s, {started:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine();
        output.WriteLine($"- machine: {RunConditions.Machine()}");
        output.WriteLine($"- load average (1/5/15 min): {loadBefore} before, {RunConditions.LoadAverage()} after");
        output.WriteLine($"- one process; {BenchSettings.JitWarmup.TotalSeconds:F0} s warm-up, then back-to-back `wrk -t1 -c{BenchSettings.SaturatedConnections} -d{BenchSettings.Window.TotalSeconds:F0}s` runs (a gateway's breakers closed between them)");
        if (reference is not null)
        {
            output.WriteLine($"- the reference: bare YARP (its own process, warmed up as long) takes `wrk -t1 -c{BenchSettings.SaturatedConnections} -d{ReferenceProbe.TotalSeconds:F0}s` after each window, so the gateway is loaded about 10 s in every 12.5; the gateway's ratio to it is taken window by window. The probe follows the window rather than running beside it, so it tracks the machine's slow drift, not each window's");
        }

        output.WriteLine($"- GC {GcMode.Of(running.Process)}; telemetry: {SideBySideRun.Telemetry(target)}");
        output.WriteLine($"- CPUs: {CpuPinning.Describe(settings.Pin)}");
        output.WriteLine();
        output.WriteLine(reference is null ? "| window (s) | RPS | CPU µs/request | RSS MB |" : "| window (s) | RPS | CPU µs/request | RSS MB | bare YARP after it, RPS | ratio |");
        output.WriteLine(reference is null ? "|---|--:|--:|--:|" : "|---|--:|--:|--:|--:|--:|");
        for (var i = 0; i < windows.Count; i++)
        {
            var from = i * BenchSettings.Window.TotalSeconds;
            var w = windows[i];
            var row = string.Create(CultureInfo.InvariantCulture, $"| {from:F0}–{from + BenchSettings.Window.TotalSeconds:F0} | {w.Rps:N0} | {w.Cpu:F0} | {w.Rss:F0} |");
            output.WriteLine(reference is null ? row : row + string.Create(CultureInfo.InvariantCulture, $" {w.Reference:N0} | {w.Rps / w.Reference:F2} |"));
        }

        output.WriteLine();
        var overlap = windows.Count < 2 * perMinute ? "; the run is shorter than two minutes, so the two minutes overlap" : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"First minute {first:N0} RPS, last minute {last:N0} RPS: last/first = **{last / first:F2}** (target ≥ 0.95){overlap}"));
        if (reference is not null)
        {
            // The median of each minute's window ratios: one window caught in a dip of the machine's weighs no more than another.
            var firstRatio = Stats.Median(windows.Take(perMinute).Select(w => w.Rps / w.Reference).ToList());
            var lastRatio = Stats.Median(windows.TakeLast(perMinute).Select(w => w.Rps / w.Reference).ToList());
            var referenceFirst = windows.Take(perMinute).Average(w => w.Reference);
            var referenceLast = windows.TakeLast(perMinute).Average(w => w.Reference);
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Against bare YARP between the windows (median of each minute's window ratios; an aid to reading the figure above, which is the target's): first minute {firstRatio:F2}×, last minute {lastRatio:F2}×: last/first = {lastRatio / firstRatio:F2}; bare YARP itself went from {referenceFirst:N0} to {referenceLast:N0} RPS ({referenceLast / referenceFirst:F2})"));
        }
        // CPU per request moves less than throughput with the other load of a shared machine.
        var firstCpu = windows.Take(perMinute).Average(w => w.Cpu);
        var lastCpu = windows.TakeLast(perMinute).Average(w => w.Cpu);
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU per request: first minute {firstCpu:F0} µs, last minute {lastCpu:F0} µs: last/first = {lastCpu / firstCpu:F2}"));

        // A decay that happens within the first minute (a window of a minute filling up) hides inside that minute's mean.
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"First window {windows[0].Rps:N0} RPS, {windows[0].Cpu:F0} µs/request; last minute over first window: RPS {last / windows[0].Rps:F2}, CPU per request {lastCpu / windows[0].Cpu:F2}"));
        output.WriteLine();
        output.WriteLine($"Status mix: {mix}");
        if (reference is not null)
        {
            output.WriteLine();
            output.WriteLine($"Bare YARP's status mix (warm-up and probes): {referenceMix}");
        }
        if (target.Kind == TargetKind.Gateway)
        {
            output.WriteLine();
            output.WriteLine($"Circuit breakers tripped (the gateway's log; with the trivial backend only requests that wrk cuts off at the end of a window trip one), closed again before each window: {running.Process.CountLines(SideBySideRun.BreakerTripped)}");
        }

        return mix.AllSuccessful && referenceMix.AllSuccessful;
    }
}
