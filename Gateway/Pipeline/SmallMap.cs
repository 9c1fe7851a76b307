using System.Diagnostics.CodeAnalysis;

namespace Gateway.Pipeline;

/// <summary>
/// The few entries one request keeps by key (its feature slots, its held leases): searched in order, which for one or
/// two entries costs less than a dictionary's hashing and buckets, made on every request that keeps any.
/// </summary>
internal sealed class SmallMap<TKey, TValue>
    where TKey : notnull
{
    private readonly List<(TKey Key, TValue Value)> _entries = new(capacity: 2);

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        var at = IndexOf(key);
        value = at >= 0 ? _entries[at].Value : default;
        return at >= 0;
    }

    /// <summary>Keeps <paramref name="value"/> for <paramref name="key"/>, in place of any value it had.</summary>
    public void Set(TKey key, TValue value)
    {
        var at = IndexOf(key);
        if (at >= 0)
        {
            _entries[at] = (key, value);
        }
        else
        {
            _entries.Add((key, value));
        }
    }

    private int IndexOf(TKey key)
    {
        for (var i = 0; i < _entries.Count; i++)
        {
            if (EqualityComparer<TKey>.Default.Equals(_entries[i].Key, key))
            {
                return i;
            }
        }

        return -1;
    }
}
