using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Reporting;

/// <summary>
/// Counts per subscription and operation since start, and the successful calls' latencies since the last summary (for
/// its median). Thread-safe: calls record as they end while the summary timer reads.
/// </summary>
internal sealed class TrafficStats
{
    /// <summary>Latencies kept per subscription and operation between two summaries; beyond, the median uses the first ones.</summary>
    public const int MaxSamplesPerWindow = 10_000;

    private readonly Lock _lock = new();
    private readonly SortedDictionary<(string Subscription, TrafficOperation Operation), Entry> _entries = [];

    public void Record(string subscription, TrafficOperation operation, TrafficOutcome outcome, TimeSpan latency)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue((subscription, operation), out var entry))
            {
                entry = new Entry();
                _entries[(subscription, operation)] = entry;
            }

            entry.Counts[(int)outcome]++;
            if (outcome == TrafficOutcome.Ok && entry.Latencies.Count < MaxSamplesPerWindow)
            {
                entry.Latencies.Add(latency.TotalMilliseconds);
            }
        }
    }

    /// <summary>One line per subscription and operation seen so far, in order; starts a new latency window.</summary>
    public IReadOnlyList<TrafficSummaryLine> TakeSummary()
    {
        lock (_lock)
        {
            var lines = new List<TrafficSummaryLine>(_entries.Count);
            foreach (var ((subscription, operation), entry) in _entries)
            {
                lines.Add(new TrafficSummaryLine(
                    subscription,
                    operation,
                    entry.Counts[(int)TrafficOutcome.Ok],
                    entry.Counts[(int)TrafficOutcome.Throttled],
                    entry.Counts[(int)TrafficOutcome.Error],
                    entry.Counts[(int)TrafficOutcome.Timeout],
                    entry.Counts[(int)TrafficOutcome.Skipped],
                    Median(entry.Latencies)));
                entry.Latencies.Clear();
            }

            return lines;
        }
    }

    /// <summary>The lower median of <paramref name="values"/> (null for none); sorts the list.</summary>
    public static double? Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        values.Sort();
        return values[(values.Count - 1) / 2];
    }

    private sealed class Entry
    {
        public long[] Counts { get; } = new long[Enum.GetValues<TrafficOutcome>().Length];

        public List<double> Latencies { get; } = [];
    }
}

/// <summary>
/// A summary line: counts since start, and the median latency in milliseconds of the calls that succeeded since the
/// previous summary (null when none did).
/// </summary>
internal sealed record TrafficSummaryLine(string Subscription, TrafficOperation Operation, long Ok, long Throttled, long Errors, long Timeouts, long Skipped, double? MedianMilliseconds);
