using System.Diagnostics;
using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// <c>--pin</c>: the load generator and the trivial backend share CPU 0 and the measured target has CPU 1 to itself
/// (<c>taskset</c>, which execs the command, so the process id stays the app's). Without it the scheduler moves the three
/// processes between the two cores as it likes, and the same target's throughput can differ twofold between rounds. A
/// pinned .NET process sees one processor: its thread pool and GC size themselves for one.
/// </summary>
internal static class CpuPinning
{
    public const int LoadCpu = 0;

    public const int TargetCpu = 1;

    /// <summary>The report's line on where the processes ran.</summary>
    public static string Describe(bool pinned) => pinned
        ? $"pinned (--pin): wrk and the trivial backend on CPU {LoadCpu}, the measured target on CPU {TargetCpu} alone"
        : "not pinned: the scheduler places wrk, the backend and the target on the two cores";

    /// <summary>Makes <paramref name="start"/> run on <paramref name="cpu"/> only.</summary>
    public static ProcessStartInfo On(this ProcessStartInfo start, int cpu)
    {
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, cpu.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Insert(0, "-c");
        start.FileName = "taskset";
        return start;
    }
}
