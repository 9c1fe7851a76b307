using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// One target (the shipped policy by default) at saturation for a long time: back-to-back 10-second
/// <c>wrk -t1 -c32</c> runs on one process after a warm-up, each window's throughput, CPU per request and RSS, and
/// the last minute's throughput over the first minute's (the issue's target: at least 0.95).
/// </summary>
internal sealed class SustainedRun(BenchSettings settings, TargetLauncher launcher, TextWriter output, TextWriter progress)
{
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
        mix.Add(await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, BenchSettings.JitWarmup, settings.Pin));
        await launcher.AfterLoadAsync(running);

        var windows = new List<(double Rps, double Cpu, double Rss)>();
        var count = (int)Math.Ceiling(duration / BenchSettings.Window);
        for (var i = 0; i < count; i++)
        {
            var cpuBefore = ProcStats.CpuSeconds(pid);
            var result = await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, BenchSettings.Window, settings.Pin);
            var cpu = ProcStats.CpuSeconds(pid) - cpuBefore;
            mix.Add(result);
            await launcher.AfterLoadAsync(running);
            windows.Add((result.RequestsPerSecond, result.Requests == 0 ? double.NaN : cpu * 1e6 / result.Requests, ProcStats.RssMegabytes(pid)));
            progress.WriteLine($"  {(i + 1) * BenchSettings.Window.TotalSeconds:F0} s: {result.RequestsPerSecond:F0} RPS");
        }

        var perMinute = (int)(TimeSpan.FromMinutes(1) / BenchSettings.Window);
        var first = windows.Take(perMinute).Average(w => w.Rps);
        var last = windows.TakeLast(perMinute).Average(w => w.Rps);
        output.WriteLine($"## Sustained: {target.Title}, {duration.TotalSeconds:F0} s, {started:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine();
        output.WriteLine($"- machine: {RunConditions.Machine()}");
        output.WriteLine($"- load average (1/5/15 min): {loadBefore} before, {RunConditions.LoadAverage()} after");
        output.WriteLine($"- one process; {BenchSettings.JitWarmup.TotalSeconds:F0} s warm-up, then back-to-back `wrk -t1 -c{BenchSettings.SaturatedConnections} -d{BenchSettings.Window.TotalSeconds:F0}s` runs (a gateway's breakers closed between them)");
        output.WriteLine($"- GC {GcMode.Of(running.Process)}; telemetry: {SideBySideRun.Telemetry(target)}");
        output.WriteLine($"- CPUs: {CpuPinning.Describe(settings.Pin)}");
        output.WriteLine();
        output.WriteLine("| window (s) | RPS | CPU µs/request | RSS MB |");
        output.WriteLine("|---|--:|--:|--:|");
        for (var i = 0; i < windows.Count; i++)
        {
            var from = i * BenchSettings.Window.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {from:F0}–{from + BenchSettings.Window.TotalSeconds:F0} | {windows[i].Rps:N0} | {windows[i].Cpu:F0} | {windows[i].Rss:F0} |"));
        }

        output.WriteLine();
        var overlap = windows.Count < 2 * perMinute ? "; the run is shorter than two minutes, so the two minutes overlap" : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"First minute {first:N0} RPS, last minute {last:N0} RPS: last/first = **{last / first:F2}** (target ≥ 0.95){overlap}"));
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
        if (target.Kind == TargetKind.Gateway)
        {
            output.WriteLine();
            output.WriteLine($"Circuit breakers tripped (the gateway's log; with the trivial backend only requests that wrk cuts off at the end of a window trip one), closed again before each window: {running.Process.CountLines(SideBySideRun.BreakerTripped)}");
        }

        return mix.AllSuccessful;
    }
}
