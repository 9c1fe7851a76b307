using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>A process's resident memory by kind of mapping (<see cref="ProcStats.Breakdown"/>), in MiB.</summary>
internal sealed record RssBreakdown(double Anonymous, double DoubleMapped, double Files)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"anonymous {Anonymous:F0} MB, /memfd:doublemapper (JIT code, loader heaps) {DoubleMapped:F0} MB, mapped files {Files:F0} MB");
}
