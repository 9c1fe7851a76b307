using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Primitives;

namespace Gateway.Pipeline;

/// <summary>
/// The request's headers as policies see and change them (<c>context.Request.Headers</c>, <c>set-header</c> in inbound):
/// a view over ASP.NET Core's own request headers rather than a copy, so a request whose policy changes none costs no
/// copy, and <c>forward-request</c> sends what they hold (YARP copies them into the outgoing request once). Names
/// compare without case; a value read is the header's values as an array.
/// </summary>
internal sealed class RequestHeaders(IHeaderDictionary headers) : IDictionary<string, string[]>, IReadOnlyDictionary<string, string[]>
{
    public int Count => headers.Count;

    public bool IsReadOnly => false;

    public ICollection<string> Keys => headers.Keys;

    public ICollection<string[]> Values => [.. headers.Values.Select(v => v.ToStrings())];

    IEnumerable<string> IReadOnlyDictionary<string, string[]>.Keys => headers.Keys;

    IEnumerable<string[]> IReadOnlyDictionary<string, string[]>.Values => Values;

    public string[] this[string key]
    {
        get => headers.TryGetValue(key, out var values) ? values.ToStrings() : throw new KeyNotFoundException($"The request has no header '{key}'.");
        set => headers[key] = new StringValues(value);
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string[] value)
    {
        if (headers.TryGetValue(key, out var values))
        {
            value = values.ToStrings();
            return true;
        }

        value = null;
        return false;
    }

    public bool ContainsKey(string key) => headers.ContainsKey(key);

    public void Add(string key, string[] value)
    {
        if (headers.ContainsKey(key))
        {
            throw new ArgumentException($"The request already has a header '{key}'.", nameof(key));
        }

        headers[key] = new StringValues(value);
    }

    public bool Remove(string key) => headers.Remove(key);

    public void Clear() => headers.Clear();

    public IEnumerator<KeyValuePair<string, string[]>> GetEnumerator()
    {
        foreach (var (name, values) in headers)
        {
            yield return new(name, values.ToStrings());
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void ICollection<KeyValuePair<string, string[]>>.Add(KeyValuePair<string, string[]> item) => Add(item.Key, item.Value);

    bool ICollection<KeyValuePair<string, string[]>>.Contains(KeyValuePair<string, string[]> item) =>
        TryGetValue(item.Key, out var values) && values.SequenceEqual(item.Value);

    void ICollection<KeyValuePair<string, string[]>>.CopyTo(KeyValuePair<string, string[]>[] array, int arrayIndex)
    {
        foreach (var pair in this)
        {
            array[arrayIndex++] = pair;
        }
    }

    bool ICollection<KeyValuePair<string, string[]>>.Remove(KeyValuePair<string, string[]> item) =>
        ((ICollection<KeyValuePair<string, string[]>>)this).Contains(item) && Remove(item.Key);
}
