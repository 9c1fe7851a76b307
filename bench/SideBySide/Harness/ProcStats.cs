using System.Diagnostics;
using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>What Linux says of a process: its CPU time (/proc/PID/stat) and resident memory (/proc/PID/status).</summary>
internal static class ProcStats
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Clock ticks per second, the unit of utime and stime.</summary>
    public static readonly int TicksPerSecond = ReadTicksPerSecond();

    /// <summary>utime + stime, in seconds.</summary>
    public static double CpuSeconds(int pid) => CpuTimes(pid).Total;

    /// <summary>utime and stime (user mode and kernel), in seconds.</summary>
    public static CpuTime CpuTimes(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces: count the fields after its closing parenthesis (state is field 3).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new CpuTime((double)utime / TicksPerSecond, (double)stime / TicksPerSecond);
    }

    /// <summary>VmRSS, in MiB.</summary>
    public static double RssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return kilobytes / 1024.0;
    }

    /// <summary>
    /// Where the resident memory is (/proc/PID/smaps), in MiB: anonymous mappings (the GC heap, native allocations,
    /// stacks), <c>/memfd:doublemapper</c> (the runtime's executable memory: JIT-compiled code, stubs, loader heaps) and
    /// mapped files (assemblies, native libraries).
    /// </summary>
    public static RssBreakdown Breakdown(int pid)
    {
        long anonymous = 0, doubleMapped = 0, files = 0;
        var name = "";
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            if (IsMappingLine(line))
            {
                // "start-end perms offset dev inode [pathname]": the pathname is the sixth field, if any.
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                name = fields.Length == 6 ? fields[5].Trim() : "";
            }
            else if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                var kilobytes = long.Parse(line["Rss:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                if (name.StartsWith("/memfd:doublemapper", StringComparison.Ordinal))
                {
                    doubleMapped += kilobytes;
                }
                else if (name.StartsWith('/'))
                {
                    files += kilobytes;
                }
                else
                {
                    anonymous += kilobytes;
                }
            }
        }

        return new RssBreakdown(anonymous / 1024.0, doubleMapped / 1024.0, files / 1024.0);
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

    // A mapping's header: its address range first ("7f3c...-7f3c... r-xp ..."); the fields after it ("Rss:", "VmFlags:") start with a name.
    private static bool IsMappingLine(string line)
    {
        var dash = line.IndexOf('-', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && !line.AsSpan(0, dash).ContainsAnyExcept(HexDigits);
    }

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
