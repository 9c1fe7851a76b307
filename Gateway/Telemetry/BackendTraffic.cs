using System.Collections.Concurrent;

namespace Gateway.Telemetry;

/// <summary>
/// What each backend answered in the last minute, for the gateway page: per backend, a ring of
/// <see cref="BucketCount"/> one-second buckets on the injected clock, each counting the requests
/// <c>forward-request</c> sent by the kind of answer (<see cref="Kinds"/>). Recording is O(1) (a dictionary look-up
/// and a few increments under the backend's own lock), so the request path pays next to nothing; reading walks the ring.
/// </summary>
internal sealed class BackendTraffic(TimeProvider time) : Admin.IResettableState
{
    public const int BucketCount = 60;

    /// <summary>The kinds of answer, in the order the page shows them: status classes, 429 apart, and no response at all.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["2xx", "3xx", "4xx", "429", "5xx", "error"];

    private const int Error = 5;

    private readonly ConcurrentDictionary<string, Ring> _backends = new(StringComparer.OrdinalIgnoreCase);

    public string Name => "backend-traffic";

    public Admin.StateScope Scope => Admin.StateScope.Counters;

    public int Count => _backends.Count;

    /// <summary>Counts one answer of <paramref name="backendId"/>: a response status, or null when none came (a forwarding error).</summary>
    public void Record(string backendId, int? statusCode)
    {
        var kind = statusCode switch
        {
            null => Error,
            429 => 3,
            >= 500 => 4,
            >= 400 => 2,
            >= 300 => 1,
            _ => 0,
        };
        _backends.GetOrAdd(backendId, static _ => new Ring()).Add(Second(time.GetUtcNow()), kind);
    }

    /// <summary>Each backend that answered in the last minute, by id, with its requests and their kinds.</summary>
    public IReadOnlyList<BackendTrafficSummary> Snapshot()
    {
        var now = Second(time.GetUtcNow());
        return
        [
            .. _backends.OrderBy(b => b.Key, StringComparer.OrdinalIgnoreCase)
                .Select(b => b.Value.Sum(b.Key, now))
                .Where(s => s.Requests > 0),
        ];
    }

    /// <summary>The last minute's summary of one backend (zeros when it answered nothing).</summary>
    public BackendTrafficSummary Of(string backendId) =>
        _backends.TryGetValue(backendId, out var ring) ? ring.Sum(backendId, Second(time.GetUtcNow())) : BackendTrafficSummary.Empty(backendId);

    public void Reset() => _backends.Clear();

    private static long Second(DateTimeOffset now) => now.UtcTicks / TimeSpan.TicksPerSecond;

    /// <summary>One backend's buckets: bucket <c>s % BucketCount</c> holds second <c>s</c> while its stamp says so.</summary>
    private sealed class Ring
    {
        private readonly Lock _lock = new();
        private readonly long[] _stamps = new long[BucketCount];
        private readonly int[,] _counts = new int[BucketCount, 6];

        public void Add(long second, int kind)
        {
            var bucket = (int)(second % BucketCount);
            lock (_lock)
            {
                if (_stamps[bucket] != second)
                {
                    // The bucket last held a second that has left the window.
                    _stamps[bucket] = second;
                    for (var k = 0; k < Kinds.Count; k++)
                    {
                        _counts[bucket, k] = 0;
                    }
                }

                _counts[bucket, kind]++;
            }
        }

        public BackendTrafficSummary Sum(string backendId, long now)
        {
            var sums = new long[Kinds.Count];
            lock (_lock)
            {
                for (var bucket = 0; bucket < BucketCount; bucket++)
                {
                    if (_stamps[bucket] > now - BucketCount && _stamps[bucket] <= now)
                    {
                        for (var k = 0; k < Kinds.Count; k++)
                        {
                            sums[k] += _counts[bucket, k];
                        }
                    }
                }
            }

            return new BackendTrafficSummary(backendId, sums.Sum(), Kinds.Select((kind, k) => (kind, sums[k])).Where(s => s.Item2 > 0).ToDictionary(s => s.kind, s => s.Item2, StringComparer.Ordinal));
        }
    }
}
