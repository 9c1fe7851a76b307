using System.Diagnostics;
using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>The machine and tools a run had, printed with its figures: numbers from a shared box need their conditions.</summary>
internal static class RunConditions
{
    public static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        return $"{Environment.ProcessorCount} cores ({model}), {Memory()} GiB RAM, {Environment.OSVersion}, .NET {Environment.Version}, {WrkVersion()}";
    }

    /// <summary>The 1-, 5- and 15-minute load averages.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string Memory()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (kilobytes / 1024.0 / 1024.0).ToString("F0", CultureInfo.InvariantCulture);
    }

    private static string WrkVersion()
    {
        // wrk -v prints its version and usage, and exits 1.
        using var wrk = Process.Start(new ProcessStartInfo("wrk", "-v") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var text = wrk.StandardOutput.ReadToEnd() + wrk.StandardError.ReadToEnd();
        wrk.WaitForExit();
        return text.Split('\n').FirstOrDefault(l => l.StartsWith("wrk ", StringComparison.Ordinal))?.Split(" Copyright")[0].Trim() ?? "wrk";
    }
}
