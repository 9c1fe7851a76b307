using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// What the token metric policies have emitted since start (or the last reset), read from their counters as an
/// exporter reads them: a <see cref="MeterListener"/> on this gateway's <see cref="PolicyMetrics"/> token counters,
/// summed per counter and set of dimensions. <c>GET /_gateway/admin/state</c> lists the sums, so a test or a person can
/// compare them with the usage clients received without an OpenTelemetry collector. Like OpenTelemetry, it keeps at
/// most <see cref="MaxSeries"/> dimension sets per counter and sums the rest into one overflow series.
/// </summary>
internal sealed class TokenMetricTotals : Admin.IResettableState, IDisposable
{
    public const int MaxSeries = 2000;

    /// <summary>The dimension that marks the series of measurements beyond <see cref="MaxSeries"/>, as OpenTelemetry names it.</summary>
    public const string OverflowDimension = "otel.metric.overflow";

    private static readonly HashSet<string> TokenCounters = [PolicyMetrics.PromptTokensName, PolicyMetrics.CompletionTokensName, PolicyMetrics.TotalTokensName];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);

    public TokenMetricTotals(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this gateway's counters: a test process may host several gateways, each with its own meter factory.
            if (instrument.Meter.Name == PolicyMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory)
                && TokenCounters.Contains(instrument.Name))
            {
                // The counter's series travel with each measurement as its state: no look-up of the counter by name.
                listener.EnableMeasurementEvents(instrument, _series.GetOrAdd(instrument.Name, static _ => new Series()));
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Series)state!).Add(value, tags));
        _listener.Start();
    }

    public string Name => "token-metrics";

    public Admin.StateScope Scope => Admin.StateScope.Counters;

    public int Count => _series.Values.Sum(s => s.Sums.Count);

    /// <summary>Every series with its sum, ordered by counter and dimensions.</summary>
    public IReadOnlyList<TokenMetricTotal> Snapshot() =>
    [
        .. _series.SelectMany(counter => counter.Value.Sums.Select(series => new TokenMetricTotal(counter.Key, series.Key.ToDictionary(), series.Value.Value)))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ThenBy(t => string.Join("\n", t.Dimensions.Select(d => d.Key + "=" + d.Value)), StringComparer.Ordinal),
    ];

    /// <summary>Forgets every sum; the counters stay subscribed, each with its own (now empty) series.</summary>
    public void Reset()
    {
        foreach (var counter in _series.Values)
        {
            counter.Sums.Clear();
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One counter's sums by dimensions.</summary>
    private sealed class Series
    {
        public Series() => Lookup = Sums.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();

        public ConcurrentDictionary<SeriesKey, Sum> Sums { get; } = new(SeriesKey.Comparer);

        /// <summary>The sums found by a measurement's own tags, made once (asking for it checks the comparer each time).</summary>
        private ConcurrentDictionary<SeriesKey, Sum>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> Lookup { get; }

        public void Add(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            // Found by the measurement's own tags: no key is built for a series already known, so a request's three
            // measurements allocate nothing here.
            if (!Lookup.TryGetValue(tags, out var sum))
            {
                sum = Sums.Count < MaxSeries ? Sums.GetOrAdd(SeriesKey.Of(tags), _ => new Sum()) : Sums.GetOrAdd(SeriesKey.Overflow, _ => new Sum());
            }

            Interlocked.Add(ref sum.Value, value);
        }
    }

    private sealed class Sum
    {
        public long Value;
    }

    /// <summary>A set of dimensions, ordered by name, compared by value.</summary>
    private sealed record SeriesKey(string Text, KeyValuePair<string, string?>[] Dimensions)
    {
        public static readonly SeriesKey Overflow = new(OverflowDimension + "=true", [new(OverflowDimension, "true")]);

        public static readonly KeyComparer Comparer = new();

        public static SeriesKey Of(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var dimensions = new KeyValuePair<string, string?>[tags.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                dimensions[i] = new(tags[i].Key, ValueText(tags[i].Value));
            }

            Array.Sort(dimensions, (a, b) => string.CompareOrdinal(a.Key, b.Key));
            return new(string.Join("\n", dimensions.Select(d => d.Key + "=" + d.Value)), dimensions);
        }

        public Dictionary<string, string?> ToDictionary() => Dimensions.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);

        public bool Equals(SeriesKey? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

        private static string? ValueText(object? value) => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>
        /// Compares keys by their dimensions, in any order, and a measurement's tags with a key without building one.
        /// The hash is a sum over the dimensions, so the tags' order does not change it.
        /// </summary>
        public sealed class KeyComparer : IEqualityComparer<SeriesKey>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, SeriesKey>
        {
            public bool Equals(SeriesKey? x, SeriesKey? y) => x is null ? y is null : x.Equals(y);

            public int GetHashCode(SeriesKey key)
            {
                var hash = 0;
                foreach (var (name, value) in key.Dimensions)
                {
                    hash += Hash(name, value);
                }

                return hash;
            }

            public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> tags, SeriesKey key)
            {
                if (tags.Length != key.Dimensions.Length)
                {
                    return false;
                }

                foreach (var tag in tags)
                {
                    if (!Holds(key.Dimensions, tag.Key, ValueText(tag.Value)))
                    {
                        return false;
                    }
                }

                return true;
            }

            public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> tags)
            {
                var hash = 0;
                foreach (var tag in tags)
                {
                    hash += Hash(tag.Key, ValueText(tag.Value));
                }

                return hash;
            }

            public SeriesKey Create(ReadOnlySpan<KeyValuePair<string, object?>> tags) => Of(tags);

            private static int Hash(string name, string? value) =>
                HashCode.Combine(StringComparer.Ordinal.GetHashCode(name), value is null ? 0 : StringComparer.Ordinal.GetHashCode(value));

            private static bool Holds(KeyValuePair<string, string?>[] dimensions, string name, string? value)
            {
                foreach (var dimension in dimensions)
                {
                    if (string.Equals(dimension.Key, name, StringComparison.Ordinal))
                    {
                        return string.Equals(dimension.Value, value, StringComparison.Ordinal);
                    }
                }

                return false;
            }
        }
    }
}

/// <summary>One series of a token counter: its name (<c>Total Tokens</c>), dimensions and sum.</summary>
internal sealed record TokenMetricTotal(string Name, IReadOnlyDictionary<string, string?> Dimensions, long Value);
