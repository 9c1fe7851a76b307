using System.Collections.Concurrent;
using Gateway.Admin;

namespace Gateway.Caching;

/// <summary>
/// The gateway's internal cache behind <c>cache-store-value</c> and <c>cache-lookup-value</c>: values keep their type,
/// and each lives for its duration on the injected clock (per gateway instance, as API Management's internal cache).
/// As in API Management, whose cache holds serialized copies, a stored JSON token or array is a copy: changing the
/// object a request stored or looked up does not change the cache until it is stored again.
/// </summary>
internal sealed class PolicyCache(TimeProvider time) : IResettableState
{
    private readonly ConcurrentDictionary<string, (object Value, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);

    public void Store(string key, object value, TimeSpan duration)
    {
        var now = time.GetUtcNow();
        if (_entries.Count > 1024)
        {
            foreach (var (expiredKey, entry) in _entries)
            {
                if (entry.Expires <= now)
                {
                    _entries.TryRemove(expiredKey, out _);
                }
            }
        }

        _entries[key] = (Copy(value), now + duration);
    }

    public bool TryGet(string key, out object? value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > time.GetUtcNow())
            {
                value = Copy(entry.Value);
                return true;
            }

            _entries.TryRemove(KeyValuePair.Create(key, entry));
        }

        value = null;
        return false;
    }

    public void Remove(string key) => _entries.TryRemove(key, out _);

    public string Name => "cache";

    public StateScope Scope => StateScope.Caches;

    public int Count => _entries.Count;

    public void Reset() => _entries.Clear();

    private static object Copy(object value) => value switch
    {
        Newtonsoft.Json.Linq.JToken token => token.DeepClone(),
        Newtonsoft.Json.Linq.JToken[] tokens => CopyTokens(tokens),
        Array array => array.Clone(),
        _ => value,
    };

    /// <summary>A copy of an array of JSON values (a <c>JObject[]</c> stays one), each value copied too.</summary>
    private static Newtonsoft.Json.Linq.JToken[] CopyTokens(Newtonsoft.Json.Linq.JToken[] tokens)
    {
        var copy = (Newtonsoft.Json.Linq.JToken[])tokens.Clone();
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = copy[i]?.DeepClone()!;
        }

        return copy;
    }
}
