using Gateway.Apim.Model;
using Gateway.Backends;
using Gateway.Expressions;
using Gateway.Pipeline;
using Gateway.Policies;
using Gateway.Subscriptions;

namespace Gateway.Apim;

/// <summary>Everything loaded from <c>apim/</c> at start: APIs with their policies, backends and subscriptions.</summary>
internal sealed class GatewayArtifacts(string apimPath, ApiRouter router, BackendRegistry backends, SubscriptionKeyStore subscriptions, IReadOnlyList<ProductInfo> products) : IDisposable
{
    public const string ApisFolder = "apis";

    public string ApimPath { get; } = apimPath;

    public ApiRouter Router { get; } = router;

    public BackendRegistry Backends { get; } = backends;

    public SubscriptionKeyStore Subscriptions { get; } = subscriptions;

    public IReadOnlyList<ProductInfo> Products { get; } = products;

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
        var namedValues = NamedValues.Load(path, options.NamedValues);
        var backends = BackendRegistry.Create(topology, options.Backends, namedValues);
        var subscriptionDefinitions = SubscriptionDefinition.Load(path);
        var users = UserDefinition.Load(path);
        var productDefinitions = ProductDefinition.LoadAll(path);

        var routes = new List<ApiRoute>();
        var problems = new List<string>();
        var apisPath = Path.Combine(path, ApisFolder);
        var products = new List<ProductInfo>();
        try
        {
            // Whatever fails below, the documents compiled so far are disposed (their assemblies unloaded).
            foreach (var folder in Directory.Exists(apisPath) ? Directory.GetDirectories(apisPath).Order(StringComparer.Ordinal).ToArray() : [])
            {
                var api = ApiEntity.Load(folder);
                var definition = ApiDefinition.Load(Path.Combine(folder, api.Definition));
                RefuseReservedPaths(api, definition, folder);
                try
                {
                    routes.Add(new ApiRoute(api, definition, PolicyLoader.LoadApi(path, folder, api.Policy, definition.Operations.Select(o => o.Id).ToList(), namedValues)));
                }
                catch (PolicyLoadException ex)
                {
                    problems.AddRange(ex.Problems);
                }
            }

            foreach (var (product, folder) in productDefinitions)
            {
                products.Add(LoadProduct(product, folder, routes, namedValues, path, problems));
            }

            if (problems.Count > 0)
            {
                throw new PolicyLoadException(problems);
            }

            if (routes.Count == 0)
            {
                throw new ApimArtifactException(apisPath, "no API found (expected apis/<id>/api.json)");
            }

            var subscriptions = SubscriptionKeyStore.Create(subscriptionDefinitions, options.Subscriptions, products.ToDictionary(p => p.Id, StringComparer.OrdinalIgnoreCase), users);
            return new GatewayArtifacts(path, new ApiRouter(routes), backends, subscriptions, products);
        }
        catch
        {
            routes.ForEach(r => r.Dispose());
            products.ForEach(p => p.Policy?.Dispose());
            throw;
        }
    }

    /// <summary>
    /// The gateway's own endpoints live under <see cref="Admin.AdminApi.Prefix"/>; an API there, or an operation that
    /// would be served there, could be shadowed by them (or answer in their place when they are off).
    /// </summary>
    private static void RefuseReservedPaths(ApiEntity api, ApiDefinition definition, string folder)
    {
        var reserved = api.Path.Length > 0
            ? Admin.AdminApi.IsReserved(api.Path) ? $"path '{api.Path}'" : null
            : definition.Operations.FirstOrDefault(o => Admin.AdminApi.IsReserved(o.UrlTemplate)) is { } operation ? $"operation {operation.Id} ({operation.UrlTemplate})" : null;
        if (reserved is not null)
        {
            throw new ApimArtifactException(Path.Combine(folder, ApiEntity.FileName), $"API '{api.Id}': {reserved} is under {Admin.AdminApi.Prefix}/, which is reserved for the local gateway's own endpoints");
        }
    }

    /// <summary>A product with its APIs and, when it has one, its policy (problems are collected, not thrown).</summary>
    private static ProductInfo LoadProduct(ProductDefinition product, string folder, List<ApiRoute> routes, NamedValues namedValues, string apimPath, List<string> problems)
    {
        var apis = new List<IApi>();
        foreach (var apiId in product.Apis ?? [])
        {
            apis.Add(routes.FirstOrDefault(r => string.Equals(r.Entity.Id, apiId, StringComparison.OrdinalIgnoreCase))?.Info
                ?? throw new ApimArtifactException(Path.Combine(folder, ProductDefinition.FileName), $"product '{product.Id}' lists API '{apiId}', which does not exist"));
        }

        PolicyDocument? policy = null;
        if (product.Policy is { } file)
        {
            var policyPath = Path.Combine(folder, file);
            try
            {
                policy = File.Exists(policyPath)
                    ? PolicyLoader.Load(File.ReadAllText(policyPath), policyPath, PolicyScope.Product, namedValues, apimPath)
                    : throw new PolicyLoadException([$"{policyPath}(1,1): error {PolicyDiagnostics.MalformedXml}: file not found"]);
            }
            catch (PolicyLoadException ex)
            {
                problems.AddRange(ex.Problems);
            }
        }

        return new ProductInfo(product, apis, policy);
    }

    public void Dispose()
    {
        Router.Dispose();
        foreach (var product in Products)
        {
            product.Policy?.Dispose();
        }
    }
}
