using System.Diagnostics.CodeAnalysis;
using Gateway.Apim;
using Gateway.Apim.Model;

namespace Gateway.Backends;

/// <summary>
/// The backend entities of the topology by id: single backends and pools of them. Locally, each single backend's URL is
/// overridden from configuration (<c>Apim:Backends:{id}:Url</c>), which the AppHost points at the backend's mock.
/// </summary>
internal sealed class BackendRegistry
{
    private readonly Dictionary<string, BackendEntity> _backends;

    public BackendRegistry(IEnumerable<BackendEntity> backends)
    {
        _backends = backends.ToDictionary(b => b.Id, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<BackendEntity> All => _backends.Values;

    public static BackendRegistry Create(Topology topology, IReadOnlyDictionary<string, BackendOverrideOptions> overrides, NamedValues namedValues)
    {
        foreach (var id in overrides.Keys)
        {
            var definition = topology.Backends.FirstOrDefault(b => string.Equals(b.Id, id, StringComparison.OrdinalIgnoreCase))
                ?? throw new ApimArtifactException(Topology.FileName, $"configuration Apim:Backends:{id} names a backend the topology does not have");
            if (definition.IsPool)
            {
                throw new ApimArtifactException(Topology.FileName, $"configuration Apim:Backends:{id} names a pool, which has no URL of its own");
            }
        }

        var singles = new Dictionary<string, Backend>(StringComparer.OrdinalIgnoreCase);
        foreach (var definition in topology.Backends.Where(b => !b.IsPool))
        {
            var url = overrides.TryGetValue(definition.Id, out var local) && !string.IsNullOrWhiteSpace(local.Url) ? local.Url : definition.Url;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                throw new ApimArtifactException(Topology.FileName, $"backend '{definition.Id}' has an invalid URL '{url}'");
            }

            var region = topology.RegionOf(definition);
            var rule = definition.CircuitBreaker?.Rules is [var only] ? CircuitBreakerRule.From(only) : null;
            singles[definition.Id] = new Backend(definition.Id, uri, region, rule, BackendCredentials.From(definition.Credentials, namedValues, definition.Id));
        }

        var pools = topology.Backends.Where(b => b.IsPool).Select(definition => new BackendPool(
            definition.Id,
            (definition.Pool?.Services ?? []).Select(s => new PoolMember(
                singles[s.BackendId],
                s.Priority ?? BackendPool.DefaultPriority,
                s.Weight ?? BackendPool.DefaultWeight)),
            definition.Pool?.SessionAffinity?.SessionId?.Name is { } cookie ? new PoolSessionAffinity(cookie) : null));

        return new BackendRegistry(singles.Values.Cast<BackendEntity>().Concat(pools));
    }

    public bool TryGet(string id, [NotNullWhen(true)] out BackendEntity? backend) => _backends.TryGetValue(id, out backend);
}
