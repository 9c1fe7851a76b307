using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>wrk with <c>chat.lua</c>, one thread, the result read from the script's own summary line.</summary>
internal static class Wrk
{
    /// <summary>
    /// <paramref name="connections"/> connections for <paramref name="duration"/>, each waiting
    /// <paramref name="thinkMilliseconds"/> after every response.
    /// </summary>
    public static async Task<WrkResult> RunAsync(Uri target, string apiKey, int connections, TimeSpan duration, bool pin, int thinkMilliseconds = 0)
    {
        var start = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--timeout", "10s",
            "-s", Repo.WrkScript, new Uri(target, TargetLauncher.ChatPath).ToString(),
        ];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (pin)
        {
            start.On(CpuPinning.LoadCpu);
        }

        start.Environment["BENCH_API_KEY"] = apiKey;
        start.Environment["BENCH_DELAY_MS"] = thinkMilliseconds.ToString(CultureInfo.InvariantCulture);
        using var wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start");
        var output = wrk.StandardOutput.ReadToEndAsync();
        var error = wrk.StandardError.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        var line = (await output).Split('\n').FirstOrDefault(l => l.StartsWith("BENCH ", StringComparison.Ordinal));
        if (wrk.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"wrk failed (exit {wrk.ExitCode}): {await output}{await error}");
        }

        return JsonSerializer.Deserialize<WrkResult>(line["BENCH ".Length..], JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("wrk printed no result");
    }
}

/// <summary>What <c>chat.lua</c>'s done() prints.</summary>
internal sealed record WrkResult(
    long Requests,
    long DurationUs,
    long ConnectErrors,
    long ReadErrors,
    long WriteErrors,
    long Timeouts,
    long P50Us,
    long P99Us,
    Dictionary<string, long> Statuses)
{
    public double RequestsPerSecond => Requests / (DurationUs / 1e6);

    public long SocketErrors => ConnectErrors + ReadErrors + WriteErrors + Timeouts;
}
