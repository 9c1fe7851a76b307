using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// The custom metrics policies emit (<c>emit-metric</c>): one counter per metric name on the meter
/// <see cref="MeterName"/>, tagged with the metric's namespace and dimensions.
/// </summary>
internal sealed class PolicyMetrics(IMeterFactory meterFactory)
{
    public const string MeterName = "Gateway.Policies.Metrics";

    private readonly Meter _meter = meterFactory.Create(MeterName);
    private readonly ConcurrentDictionary<string, Counter<double>> _counters = new(StringComparer.Ordinal);

    public void Add(string name, double value, KeyValuePair<string, object?>[] tags) =>
        _counters.GetOrAdd(name, n => _meter.CreateCounter<double>(n, description: "Emitted by the emit-metric policy.")).Add(value, tags);
}
