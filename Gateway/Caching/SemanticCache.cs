using Gateway.Admin;

namespace Gateway.Caching;

/// <summary>
/// The vector store behind the semantic cache policies: API Management keeps it in an external Redis with RediSearch,
/// the gateway in memory, per instance. Entries are grouped in partitions (API, operation and the <c>vary-by</c>
/// values); a lookup compares the prompt's vector with every live entry of its partition by cosine distance
/// (1 − cosine similarity) and takes the nearest one within the threshold. Bounded in search cost and in memory: at
/// most <see cref="MaxEntriesPerPartition"/> entries a partition, <see cref="MaxPartitions"/> partitions,
/// <see cref="MaxEntries"/> entries and <see cref="MaxBytes"/> of vectors and bodies in all; past a bound, expired
/// entries go first, then those closest to expiring. A partition is an array replaced as a whole on every store, so a
/// lookup takes the lock only to pick the array up and compares vectors outside it: lookups never wait for each other.
/// Entries expire on the injected clock.
/// </summary>
internal sealed class SemanticCache(TimeProvider time) : IResettableState
{
    /// <summary>How many entries one partition holds: a lookup compares at most this many vectors.</summary>
    public const int MaxEntriesPerPartition = 1000;

    /// <summary>How many partitions (distinct API, operation and vary-by values) the cache holds.</summary>
    public const int MaxPartitions = 1000;

    /// <summary>How many entries the whole cache holds.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>How many bytes of vectors and response bodies the whole cache holds.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    // Identical vectors can compute to a distance a rounding error above 0: a threshold of 0 must still match them.
    private const double DistanceTolerance = 1e-6;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, SemanticCacheEntry[]> _partitions = new(StringComparer.Ordinal);
    private int _count;
    private long _bytes;

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

    /// <summary>The bytes the entries hold now (vectors and bodies).</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>The live entry of <paramref name="partition"/> nearest to <paramref name="vector"/>, if its cosine distance is at most <paramref name="threshold"/>.</summary>
    public SemanticCacheEntry? Find(string partition, float[] vector, double threshold)
    {
        SemanticCacheEntry[]? entries;
        lock (_lock)
        {
            _partitions.TryGetValue(partition, out entries);
        }

        if (entries is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
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

    /// <summary>Adds an entry to <paramref name="partition"/>, making room as the bounds require.</summary>
    public void Store(string partition, SemanticCacheEntry entry)
    {
        var size = SizeOf(entry);
        if (size > MaxBytes)
        {
            return;
        }

        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_partitions.TryGetValue(partition, out var entries) && _partitions.Count >= MaxPartitions)
            {
                SweepExpired(now);
                if (_partitions.Count >= MaxPartitions)
                {
                    Remove(_partitions.MinBy(p => p.Value.Max(e => e.Expires)).Key);
                }
            }

            var kept = (entries ?? []).Where(e => e.Expires > now).ToList();
            if (kept.Count >= MaxEntriesPerPartition)
            {
                kept.Remove(kept.MinBy(e => e.Expires)!);
            }

            kept.Add(entry);
            Replace(partition, [.. kept]);
            if (_count > MaxEntries || _bytes > MaxBytes)
            {
                SweepExpired(now);
            }

            while (_count > MaxEntries || _bytes > MaxBytes)
            {
                EvictSoonestExpiring();
            }
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _partitions.Clear();
            _count = 0;
            _bytes = 0;
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

    private static long SizeOf(SemanticCacheEntry entry) => (entry.Vector.Length * (long)sizeof(float)) + entry.Body.Length;

    private void SweepExpired(DateTimeOffset now)
    {
        foreach (var (key, entries) in _partitions.ToList())
        {
            if (entries.Any(e => e.Expires <= now))
            {
                Replace(key, [.. entries.Where(e => e.Expires > now)]);
            }
        }
    }

    private void EvictSoonestExpiring()
    {
        var (key, entries) = _partitions.MinBy(p => p.Value.Min(e => e.Expires));
        var soonest = entries.MinBy(e => e.Expires)!;
        Replace(key, [.. entries.Where(e => !ReferenceEquals(e, soonest))]);
    }

    /// <summary>Puts <paramref name="entries"/> in place of the partition's array (none: the partition goes), keeping the totals.</summary>
    private void Replace(string partition, SemanticCacheEntry[] entries)
    {
        if (_partitions.TryGetValue(partition, out var old))
        {
            _count -= old.Length;
            _bytes -= old.Sum(SizeOf);
        }

        if (entries.Length == 0)
        {
            _partitions.Remove(partition);
            return;
        }

        _partitions[partition] = entries;
        _count += entries.Length;
        _bytes += entries.Sum(SizeOf);
    }

    private void Remove(string partition) => Replace(partition, []);
}
