using System.Diagnostics.CodeAnalysis;
using Gateway.Apim;
using Gateway.Apim.Model;

namespace Gateway.Backends;

/// <summary>
/// The backend entities of the topology by id. Locally, each backend's URL is overridden from configuration
/// (<c>Apim:Backends:{id}:Url</c>), which the AppHost points at the backend's mock.
/// </summary>
internal sealed class BackendRegistry
{
    private readonly Dictionary<string, Backend> _backends;

    public BackendRegistry(IEnumerable<Backend> backends)
    {
        _backends = backends.ToDictionary(b => b.Id, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<Backend> All => _backends.Values;

    public static BackendRegistry Create(Topology topology, IReadOnlyDictionary<string, BackendOverrideOptions> overrides)
    {
        foreach (var id in overrides.Keys.Where(id => !topology.Backends.Any(b => string.Equals(b.Id, id, StringComparison.OrdinalIgnoreCase))))
        {
            throw new ApimArtifactException(Topology.FileName, $"configuration Apim:Backends:{id} names a backend the topology does not have");
        }

        return new BackendRegistry(topology.Backends.Select(definition =>
        {
            var url = overrides.TryGetValue(definition.Id, out var local) && !string.IsNullOrWhiteSpace(local.Url) ? local.Url : definition.Url;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                throw new ApimArtifactException(Topology.FileName, $"backend '{definition.Id}' has an invalid URL '{url}'");
            }

            return new Backend(definition.Id, uri);
        }));
    }

    public bool TryGet(string id, [NotNullWhen(true)] out Backend? backend) => _backends.TryGetValue(id, out backend);
}
