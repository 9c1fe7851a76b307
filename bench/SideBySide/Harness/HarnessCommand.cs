using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// The harness role: reads the command line, runs the side-by-side rounds or the sustained mode, prints the report
/// (markdown) on standard output and the progress on standard error. Exits 1 when any request got no 2xx (or a stream
/// no <c>[DONE]</c>), 2 when the command line or the machine is not right.
/// </summary>
internal static class HarnessCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var progress = Console.Error;
        if (BenchSettings.Parse(args, progress) is not { } settings)
        {
            return 2;
        }

        if (!OnPath("wrk"))
        {
            progress.WriteLine("side-by-side: wrk is not installed (sudo apt-get install -y wrk)");
            return 2;
        }

#if DEBUG
        progress.WriteLine("side-by-side: a Debug build measures nothing useful; run bench/side-by-side.sh (Release)");
#endif
        var runDirectory = Path.Combine(Path.GetTempPath(), "side-by-side-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(runDirectory);
        progress.WriteLine($"side-by-side: process logs in {runDirectory}");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ActivityHeadersPropagator = null }) { Timeout = TimeSpan.FromSeconds(30) };
        var launcher = new TargetLauncher(runDirectory, http, settings.Pin);
        try
        {
            var ok = settings switch
            {
                { MemoryRequests: not null } => await new MemoryRun(settings, launcher, new StreamProbe(http, launcher), Console.Out, progress).RunAsync(),
                { Sustained: not null } => await new SustainedRun(settings, launcher, Console.Out, progress).RunAsync(),
                _ => await new SideBySideRun(settings, launcher, new StreamProbe(http, launcher), Console.Out, progress).RunAsync(),
            };
            if (!ok)
            {
                progress.WriteLine("side-by-side: FAILED: some requests got no 2xx (see the status mix)");
            }

            return ok ? 0 : 1;
        }
        catch (InvalidOperationException ex)
        {
            progress.WriteLine($"side-by-side: FAILED: {ex.Message}");
            return 1;
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, tool)));
}
