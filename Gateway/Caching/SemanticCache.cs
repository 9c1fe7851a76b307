using Gateway.Admin;

namespace Gateway.Caching;

/// <summary>
/// The vector store behind the semantic cache policies: API Management keeps it in an external Redis with RediSearch,
/// the gateway in memory, per instance. Entries are grouped in partitions (API, operation and the <c>vary-by</c>
/// values); a lookup compares the prompt's vector with every live entry of its partition by cosine distance
/// (1 − cosine similarity) and takes the nearest one within the threshold. Search cost is bounded: at most
/// <see cref="MaxEntriesPerPartition"/> entries a partition (the one closest to expiring is evicted for a new one) and
/// <see cref="MaxPartitions"/> partitions (expired entries are swept, then the partition that expires first goes).
/// Entries expire on the injected clock.
/// </summary>
internal sealed class SemanticCache(TimeProvider time) : IResettableState
{
    /// <summary>How many entries one partition holds: a lookup compares at most this many vectors.</summary>
    public const int MaxEntriesPerPartition = 1000;

    /// <summary>How many partitions (distinct API, operation and vary-by values) the cache holds.</summary>
    public const int MaxPartitions = 1000;

    // Identical vectors can compute to a distance a rounding error above 0: a threshold of 0 must still match them.
    private const double DistanceTolerance = 1e-6;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<SemanticCacheEntry>> _partitions = new(StringComparer.Ordinal);
    private int _count;

    public string Name => "semantic-cache";

    public StateScope Scope => StateScope.Caches;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>The live entry of <paramref name="partition"/> nearest to <paramref name="vector"/>, if its cosine distance is at most <paramref name="threshold"/>.</summary>
    public SemanticCacheEntry? Find(string partition, float[] vector, double threshold)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_partitions.TryGetValue(partition, out var entries))
            {
                return null;
            }

            SemanticCacheEntry? nearest = null;
            var nearestDistance = double.MaxValue;
            foreach (var entry in entries)
            {
                if (entry.Expires <= now || entry.Vector.Length != vector.Length)
                {
                    continue;
                }

                var distance = 1 - CosineSimilarity(entry.Vector, vector);
                if (distance < nearestDistance)
                {
                    nearest = entry;
                    nearestDistance = distance;
                }
            }

            return nearest is not null && nearestDistance <= threshold + DistanceTolerance ? nearest : null;
        }
    }

    /// <summary>Adds an entry to <paramref name="partition"/>, making room as the bounds require.</summary>
    public void Store(string partition, SemanticCacheEntry entry)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_partitions.TryGetValue(partition, out var entries))
            {
                if (_partitions.Count >= MaxPartitions)
                {
                    MakeRoomForPartition(now);
                }

                entries = [];
                _partitions[partition] = entries;
            }

            _count -= entries.RemoveAll(e => e.Expires <= now);
            if (entries.Count >= MaxEntriesPerPartition)
            {
                var soonest = entries.MinBy(e => e.Expires)!;
                entries.Remove(soonest);
                _count--;
            }

            entries.Add(entry);
            _count++;
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _partitions.Clear();
            _count = 0;
        }
    }

    /// <summary>The cosine similarity of two vectors of one length (0 when either is all zeros).</summary>
    public static double CosineSimilarity(float[] a, float[] b)
    {
        double dot = 0, normA = 0, normB = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
        }

        return normA == 0 || normB == 0 ? 0 : dot / Math.Sqrt(normA * normB);
    }

    private void MakeRoomForPartition(DateTimeOffset now)
    {
        foreach (var (key, entries) in _partitions.ToList())
        {
            _count -= entries.RemoveAll(e => e.Expires <= now);
            if (entries.Count == 0)
            {
                _partitions.Remove(key);
            }
        }

        if (_partitions.Count >= MaxPartitions)
        {
            var (key, entries) = _partitions.MinBy(p => p.Value.Max(e => e.Expires));
            _count -= entries.Count;
            _partitions.Remove(key);
        }
    }
}
