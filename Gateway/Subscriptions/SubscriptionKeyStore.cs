using System.Security.Cryptography;
using System.Text;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Pipeline;

namespace Gateway.Subscriptions;

/// <summary>
/// The subscriptions of <c>apim/subscriptions.json</c> with their keys from configuration. A presented key is compared
/// with every key in constant time (SHA-256 digests of equal length, no early exit), so timing reveals nothing.
/// </summary>
internal sealed class SubscriptionKeyStore
{
    private readonly IReadOnlyList<Entry> _entries;

    private SubscriptionKeyStore(IReadOnlyList<Entry> entries)
    {
        _entries = entries;
    }

    /// <summary>Names of subscriptions that have no key, so nobody can use them (worth a warning at start).</summary>
    public IEnumerable<string> WithoutKeys => _entries.Where(e => e.Primary.Length == 0 && e.Secondary.Length == 0).Select(e => e.Definition.Name);

    public static SubscriptionKeyStore Create(IReadOnlyList<SubscriptionDefinition> subscriptions, IReadOnlyDictionary<string, SubscriptionKeyOptions> keys)
    {
        foreach (var name in keys.Keys.Where(name => !subscriptions.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))))
        {
            throw new ApimArtifactException(SubscriptionDefinition.FileName, $"configuration Apim:Subscriptions:{name} names a subscription that does not exist");
        }

        return new SubscriptionKeyStore([.. subscriptions.Select(definition =>
        {
            keys.TryGetValue(definition.Name, out var options);
            return new Entry(definition, options?.PrimaryKey ?? string.Empty, options?.SecondaryKey ?? string.Empty);
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

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        Entry? match = null;
        foreach (var entry in _entries)
        {
            // Both comparisons always run: the time taken does not depend on which key, if any, matched.
            var primary = CryptographicOperations.FixedTimeEquals(digest, entry.PrimaryDigest) & entry.Primary.Length > 0;
            var secondary = CryptographicOperations.FixedTimeEquals(digest, entry.SecondaryDigest) & entry.Secondary.Length > 0;
            if (primary | secondary)
            {
                match = entry;
            }
        }

        if (match is null || !match.Definition.IsActive || !match.Definition.Covers(api.Id))
        {
            return new(SubscriptionCheckStatus.Invalid, null);
        }

        return new(SubscriptionCheckStatus.Valid, new SubscriptionInfo(match.Definition.Name, presented, match.Primary, match.Secondary));
    }

    private sealed class Entry(SubscriptionDefinition definition, string primary, string secondary)
    {
        public SubscriptionDefinition Definition { get; } = definition;

        public string Primary { get; } = primary;

        public string Secondary { get; } = secondary;

        public byte[] PrimaryDigest { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(primary));

        public byte[] SecondaryDigest { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(secondary));
    }
}
