using Gateway.Apim.Model;
using Gateway.Backends;
using Gateway.Policies;
using Gateway.Subscriptions;

namespace Gateway.Apim;

/// <summary>Everything loaded from <c>apim/</c> at start: APIs with their policies, backends and subscriptions.</summary>
internal sealed class GatewayArtifacts(string apimPath, ApiRouter router, BackendRegistry backends, SubscriptionKeyStore subscriptions) : IDisposable
{
    public const string ApisFolder = "apis";

    public string ApimPath { get; } = apimPath;

    public ApiRouter Router { get; } = router;

    public BackendRegistry Backends { get; } = backends;

    public SubscriptionKeyStore Subscriptions { get; } = subscriptions;

    /// <summary>Loads and compiles everything; every problem found is reported together.</summary>
    /// <exception cref="PolicyLoadException">A policy, or an artefact it depends on, is wrong.</exception>
    /// <exception cref="ApimArtifactException">A JSON artefact is missing or wrong.</exception>
    public static GatewayArtifacts Load(ApimOptions options)
    {
        var path = options.ResolvePath();
        if (!Directory.Exists(path))
        {
            throw new ApimArtifactException(path, "the apim folder does not exist (set Apim:Path)");
        }

        var topology = Topology.Load(path);
        var backends = BackendRegistry.Create(topology, options.Backends);
        var subscriptions = SubscriptionKeyStore.Create(SubscriptionDefinition.Load(path), options.Subscriptions);
        var namedValues = NamedValues.Load(path, options.NamedValues);

        var routes = new List<ApiRoute>();
        var problems = new List<string>();
        var apisPath = Path.Combine(path, ApisFolder);
        foreach (var folder in Directory.Exists(apisPath) ? Directory.GetDirectories(apisPath).Order(StringComparer.Ordinal).ToArray() : [])
        {
            var api = ApiEntity.Load(folder);
            var definition = ApiDefinition.Load(Path.Combine(folder, api.Definition));
            try
            {
                routes.Add(new ApiRoute(api, definition, PolicyLoader.LoadApi(path, folder, api.Policy, definition.Operations.Select(o => o.Id).ToList(), namedValues)));
            }
            catch (PolicyLoadException ex)
            {
                problems.AddRange(ex.Problems);
            }
        }

        if (problems.Count > 0)
        {
            routes.ForEach(r => r.Dispose());
            throw new PolicyLoadException(problems);
        }

        if (routes.Count == 0)
        {
            throw new ApimArtifactException(apisPath, "no API found (expected apis/<id>/api.json)");
        }

        return new GatewayArtifacts(path, new ApiRouter(routes), backends, subscriptions);
    }

    public void Dispose() => Router.Dispose();
}
