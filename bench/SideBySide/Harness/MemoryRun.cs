using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// Issue 11's memory case: one target (the shipped policy by default) taking <see cref="BenchSettings.MemoryRequests"/>
/// requests at saturation (back-to-back 10-second <c>wrk -t1 -c32</c> windows) while
/// <see cref="BenchSettings.ConcurrentStreams"/> streamed chat completions are held open through it the whole time (the
/// trivial backend waits <see cref="StreamEventDelay"/> before each event, and each stream starts again when it ends).
/// The requests counted are wrk's and the streams ended so far.
/// Reports RSS after each window, where it is at the end, and whether it grew over the last half of the requests: the
/// least-squares line through the last half's windows, so that one window caught at the top of the GC's sawtooth does
/// not read as growth (until 2026-12-06 the rule compared the first window of the half with the last).
/// </summary>
internal sealed class MemoryRun(BenchSettings settings, TargetLauncher launcher, StreamProbe probe, TextWriter output, TextWriter progress)
{
    /// <summary>The backend's pause before each of a stream's 8 events: a stream stays open about 4 s.</summary>
    public static readonly TimeSpan StreamEventDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Growth over the last half below this share of its mean RSS is read as flat (page-level noise).</summary>
    public const double FlatTolerance = 0.02;

    public async Task<bool> RunAsync()
    {
        var target = Target.All.SingleOrDefault(t => t.Key == settings.SustainedTarget && t.Kind != TargetKind.Backend)
            ?? throw new InvalidOperationException($"No target '{settings.SustainedTarget}' to measure memory of: {string.Join(", ", Target.All.Where(t => t.Kind != TargetKind.Backend).Select(t => t.Key))}");
        var total = settings.MemoryRequests!.Value;
        var loadBefore = RunConditions.LoadAverage();
        var started = DateTimeOffset.UtcNow;
        var mix = new StatusMix();
        using var backend = await launcher.StartAsync(Target.Backend, "backend",
            $"--{Backend.TrivialBackend.StreamEventDelayKey}={StreamEventDelay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}");
        using var running = await launcher.StartAsync(target, target.Key + "-memory");
        var pid = running.Process.Pid;
        var rssAtStart = ProcStats.RssMegabytes(pid);

        using var stop = new CancellationTokenSource();
        var streamMixes = Enumerable.Range(0, BenchSettings.ConcurrentStreams).Select(_ => new StatusMix()).ToList();
        var streams = streamMixes.Select(m => Task.Run(() => probe.KeepStreamingAsync(running.Url, m, stop.Token))).ToList();

        var windows = new List<(long Requests, double Rps, double Cpu, double Rss)>();
        long served = 0;
        RssBreakdown? halfWay = null;
        while (served < total)
        {
            var cpuBefore = ProcStats.CpuSeconds(pid);
            var result = await Wrk.RunAsync(running.Url, launcher.SubscriptionKey, BenchSettings.SaturatedConnections, BenchSettings.Window, settings.Pin);
            var cpu = ProcStats.CpuSeconds(pid) - cpuBefore;
            mix.Add(result);
            await launcher.AfterLoadAsync(running);
            served += result.Requests;
            var streamed = probe.StreamsKept;
            var rss = ProcStats.RssMegabytes(pid);
            windows.Add((served + streamed, result.RequestsPerSecond, result.Requests == 0 ? double.NaN : cpu * 1e6 / result.Requests, rss));
            if (halfWay is null && served + streamed >= total / 2)
            {
                halfWay = ProcStats.Breakdown(pid);
            }

            progress.WriteLine($"  {served + streamed:N0} requests: {result.RequestsPerSecond:F0} RPS, RSS {rss:F0} MB");
            if (served + streamed >= total)
            {
                break;
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(streams);
        foreach (var streamMix in streamMixes)
        {
            mix.Add(streamMix);
        }

        var end = ProcStats.Breakdown(pid);
        var rssAtEnd = ProcStats.RssMegabytes(pid);
        Report(target, running, windows, probe.StreamsKept, rssAtStart, rssAtEnd, halfWay ?? end, end, mix, started, loadBefore);
        return mix.AllSuccessful;
    }

    /// <summary>
    /// The slope of the least-squares line through <paramref name="points"/> (MB per request). The heap's RSS is a
    /// sawtooth of about ±10 MB as the GC collects; a line through every window of the last half reads its trend, where
    /// the first window against the last reads wherever each caught the sawtooth.
    /// </summary>
    public static double Trend(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2)
        {
            return 0;
        }

        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var spread = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        return spread == 0 ? 0 : points.Sum(p => (p.X - meanX) * (p.Y - meanY)) / spread;
    }

    private void Report(Target target, RunningTarget running, List<(long Requests, double Rps, double Cpu, double Rss)> windows, long streams, double rssAtStart, double rssAtEnd, RssBreakdown halfWay, RssBreakdown end, StatusMix mix, DateTimeOffset started, string loadBefore)
    {
        var total = windows[^1].Requests;
        var half = windows.FindIndex(w => w.Requests >= total / 2);
        var lastHalf = windows.Skip(half).ToList();
        var pointToPoint = lastHalf[^1].Rss - lastHalf[0].Rss;
        var growth = Trend(lastHalf.Select(w => ((double)w.Requests, w.Rss)).ToList()) * (lastHalf[^1].Requests - lastHalf[0].Requests);
        var peak = lastHalf.Max(w => w.Rss);
        var mean = lastHalf.Average(w => w.Rss);
        var flat = growth <= FlatTolerance * mean;
        var cpu = windows.Average(w => w.Cpu);

        output.WriteLine($"## Memory: {target.Title}, {total:N0} requests with {BenchSettings.ConcurrentStreams} concurrent streams, {started:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine();
        output.WriteLine($"- machine: {RunConditions.Machine()}");
        output.WriteLine($"- load average (1/5/15 min): {loadBefore} before, {RunConditions.LoadAverage()} after; {(DateTimeOffset.UtcNow - started).TotalMinutes:F1} minutes");
        output.WriteLine($"- one process; back-to-back `wrk -t1 -c{BenchSettings.SaturatedConnections} -d{BenchSettings.Window.TotalSeconds:F0}s` runs (breakers closed between them) "
            + $"while {BenchSettings.ConcurrentStreams} streamed completions are held open (the backend waits {StreamEventDelay.TotalMilliseconds:F0} ms before each event; each stream starts again when it ends): {streams:N0} streams in all");
        output.WriteLine($"- GC {GcMode.Of(running.Process)}; telemetry: {SideBySideRun.Telemetry(target)}");
        output.WriteLine($"- CPUs: {CpuPinning.Describe(settings.Pin)}");
        output.WriteLine();
        output.WriteLine("| requests so far | window RPS | CPU µs/request | RSS MB |");
        output.WriteLine("|--:|--:|--:|--:|");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| started (one request) | | | {rssAtStart:F0} |"));
        foreach (var w in windows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {w.Requests:N0} | {w.Rps:N0} | {w.Cpu:F0} | {w.Rss:F0} |"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RSS at the end **{rssAtEnd:F0} MB** (target ≤ 200); over the last half ({lastHalf[0].Requests:N0} → {total:N0} requests, {lastHalf.Count} windows) "
            + $"{lastHalf[0].Rss:F0} → {lastHalf[^1].Rss:F0} MB ({pointToPoint:+0;-0;0} MB first to last window), mean {mean:F0}, peak {peak:F0}; "
            + $"the least-squares line through those windows moves {growth:+0.0;-0.0;0} MB over the half: **{(flat ? "flat" : "grew")}** (flat means at most {FlatTolerance:P0} of the mean). "
            + $"CPU per request over the windows: {cpu:F0} µs."));
        output.WriteLine();
        output.WriteLine($"Where the RSS is: half-way {halfWay}; at the end {end}.");
        output.WriteLine();
        output.WriteLine($"Status mix: {mix}");
        output.WriteLine();
        output.WriteLine($"Circuit breakers tripped, closed again before each window: {running.Process.CountLines(SideBySideRun.BreakerTripped)}");
    }
}
