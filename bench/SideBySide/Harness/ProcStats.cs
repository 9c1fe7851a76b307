using System.Diagnostics;
using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>What Linux says of a process: its CPU time (/proc/PID/stat) and resident memory (/proc/PID/status).</summary>
internal static class ProcStats
{
    /// <summary>Clock ticks per second, the unit of utime and stime.</summary>
    public static readonly int TicksPerSecond = ReadTicksPerSecond();

    /// <summary>utime + stime, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces: count the fields after its closing parenthesis (state is field 3).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (double)(utime + stime) / TicksPerSecond;
    }

    /// <summary>VmRSS, in MiB.</summary>
    public static double RssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return kilobytes / 1024.0;
    }

    /// <summary>The names of the process's threads (/proc/PID/task/*/comm).</summary>
    public static IReadOnlyList<string> ThreadNames(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task").Select(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).Trim();
            }
            catch (IOException)
            {
                return "";
            }
        })];

    private static int ReadTicksPerSecond()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
            var text = getconf.StandardOutput.ReadToEnd();
            getconf.WaitForExit();
            return int.Parse(text.Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or FormatException)
        {
            return 100;
        }
    }
}
