using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Pipeline;

namespace Gateway.Subscriptions;

/// <summary>
/// The subscriptions of <c>apim/subscriptions.json</c> with their keys from configuration. A presented key is found in a
/// hash table whose hash is seeded at random per process (.NET's Marvin string hash) and whose comparison takes the same
/// time whatever characters differ (<see cref="CryptographicOperations.FixedTimeEquals"/>): no prefix of a key can be
/// found by timing, since which stored key a presented one is compared with depends on a seed nobody outside knows, and
/// the comparison itself stops at no character. The lookup costs the same for one subscription or ten thousand.
/// </summary>
internal sealed class SubscriptionKeyStore
{
    private readonly IReadOnlyList<Entry> _entries;
    private readonly Dictionary<string, Entry> _byKey = new(FixedTimeKeyComparer.Instance);

    private SubscriptionKeyStore(IReadOnlyList<Entry> entries)
    {
        _entries = entries;

        // A key given to two subscriptions is the later one's, as it always was.
        foreach (var entry in entries)
        {
            foreach (var key in (ReadOnlySpan<string>)[entry.Primary, entry.Secondary])
            {
                if (key.Length > 0)
                {
                    _byKey[key] = entry;
                }
            }
        }
    }

    /// <summary>Names of subscriptions that have no key, so nobody can use them (worth a warning at start).</summary>
    public IEnumerable<string> WithoutKeys => _entries.Where(e => e.Primary.Length == 0 && e.Secondary.Length == 0).Select(e => e.Definition.Name);

    /// <summary>Whether <paramref name="text"/> (a counter key, say) contains a subscription's key, so must not be shown.</summary>
    public bool Reveals(string text) => _entries.Any(e =>
        (e.Primary.Length > 0 && text.Contains(e.Primary, StringComparison.Ordinal))
        || (e.Secondary.Length > 0 && text.Contains(e.Secondary, StringComparison.Ordinal)));

    /// <param name="subscriptions">The subscriptions of <c>apim/subscriptions.json</c>.</param>
    /// <param name="keys">Their keys, from configuration.</param>
    /// <param name="products">The products, by id; a product-scoped subscription must name one of them.</param>
    /// <param name="users">The users; a subscription's <c>ownerId</c> must name one of them.</param>
    public static SubscriptionKeyStore Create(
        IReadOnlyList<SubscriptionDefinition> subscriptions,
        IReadOnlyDictionary<string, SubscriptionKeyOptions> keys,
        IReadOnlyDictionary<string, ProductInfo>? products = null,
        IReadOnlyList<UserDefinition>? users = null)
    {
        foreach (var name in keys.Keys.Where(name => !subscriptions.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))))
        {
            throw new ApimArtifactException(SubscriptionDefinition.FileName, $"configuration Apim:Subscriptions:{name} names a subscription that does not exist");
        }

        return new SubscriptionKeyStore([.. subscriptions.Select(definition =>
        {
            keys.TryGetValue(definition.Name, out var options);
            ProductInfo? product = null;
            if (definition.ProductId is { } productId && !(products?.TryGetValue(productId, out product) ?? false))
            {
                throw new ApimArtifactException(SubscriptionDefinition.FileName, $"subscription '{definition.Name}' has scope {definition.Scope}, but there is no product '{productId}' (apim/products/*/product.json)");
            }

            UserInfo? owner = null;
            if (definition.OwnerId is { } ownerId)
            {
                var user = users?.FirstOrDefault(u => string.Equals(u.Id, ownerId, StringComparison.OrdinalIgnoreCase))
                    ?? throw new ApimArtifactException(SubscriptionDefinition.FileName, $"subscription '{definition.Name}' has ownerId '{ownerId}', which is not among the users");
                owner = new UserInfo(user);
            }

            return new Entry(definition, options?.PrimaryKey ?? string.Empty, options?.SecondaryKey ?? string.Empty, product, owner);
        })]);
    }

    /// <summary>Checks the key in the API's subscription header, or else in its query parameter, as API Management does.</summary>
    public SubscriptionCheck Check(ApiEntity api, HttpRequest request)
    {
        var names = api.KeyNames;
        string? presented = request.Headers[names.Header];
        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Query[names.Query];
        }

        if (string.IsNullOrEmpty(presented))
        {
            return new(SubscriptionCheckStatus.Missing, null);
        }

        _byKey.TryGetValue(presented, out var match);
        var covers = match?.Product is { } product ? product.Definition.Apis?.Contains(api.Id, StringComparer.OrdinalIgnoreCase) == true : match?.Definition.Covers(api.Id) == true;
        if (match is null || !match.Definition.IsActive || !covers)
        {
            return new(SubscriptionCheckStatus.Invalid, null);
        }

        return new(SubscriptionCheckStatus.Valid, new SubscriptionInfo(match.Definition.Name, presented, match.Primary, match.Secondary, match.Product, match.Owner));
    }

    private sealed class Entry(SubscriptionDefinition definition, string primary, string secondary, ProductInfo? product, UserInfo? owner)
    {
        public ProductInfo? Product { get; } = product;

        public UserInfo? Owner { get; } = owner;

        public SubscriptionDefinition Definition { get; } = definition;

        public string Primary { get; } = primary;

        public string Secondary { get; } = secondary;
    }

    /// <summary>
    /// Keys hashed with the process's random seed (<see cref="StringComparer.Ordinal"/>'s Marvin hash) and compared in
    /// constant time for keys of one length (a key's length is not a secret: every key of a kind has the same).
    /// </summary>
    private sealed class FixedTimeKeyComparer : IEqualityComparer<string>
    {
        public static readonly FixedTimeKeyComparer Instance = new();

        public bool Equals(string? x, string? y) =>
            x is not null && y is not null
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(x.AsSpan()), MemoryMarshal.AsBytes(y.AsSpan()));

        public int GetHashCode(string key) => StringComparer.Ordinal.GetHashCode(key);
    }
}
