using Gateway.Apim;

namespace Gateway.Policies;

/// <summary>
/// Loads the policy documents of an API: the global policy (<c>apim/global-policy.xml</c>, or API Management's default
/// with its <c>forward-request</c>), the API's policy, and operation policies
/// (<c>apim/apis/{api}/operations/{operationId}.xml</c>). Named values are substituted before parsing.
/// </summary>
internal static class PolicyLoader
{
    public const string GlobalPolicyFileName = "global-policy.xml";

    public const string OperationsFolder = "operations";

    /// <summary>Loads every scope; all problems of all files are reported together.</summary>
    /// <param name="apimPath">The apim folder.</param>
    /// <param name="apiFolder">The API's folder under <c>apis/</c>.</param>
    /// <param name="apiPolicyFile">The API policy's file name, relative to <paramref name="apiFolder"/>.</param>
    /// <param name="operationIds">The operations of the API definition; an operation policy for any other id is an error.</param>
    /// <param name="namedValues">The named values to substitute.</param>
    public static ApiPolicies LoadApi(string apimPath, string apiFolder, string apiPolicyFile, IReadOnlyCollection<string> operationIds, NamedValues namedValues)
    {
        var globalPath = Path.Combine(apimPath, GlobalPolicyFileName);
        var problems = new List<string>();
        var loaded = new List<PolicyDocument>();
        try
        {
            var global = File.Exists(globalPath)
                ? TryLoad(() => Load(File.ReadAllText(globalPath), globalPath, PolicyScope.Global, namedValues, apimPath), problems, loaded)
                : TryLoad(() => Load(DefaultGlobalPolicy(), "default-global-policy.xml", PolicyScope.Global, namedValues, apimPath), problems, loaded);
            var apiPolicyPath = Path.Combine(apiFolder, apiPolicyFile);
            var api = TryLoad(() => Load(ReadFile(apiPolicyPath), apiPolicyPath, PolicyScope.Api, namedValues, apimPath), problems, loaded);
            var operations = new Dictionary<string, PolicyDocument>(StringComparer.Ordinal);
            var operationsPath = Path.Combine(apiFolder, OperationsFolder);
            foreach (var file in Directory.Exists(operationsPath) ? Directory.GetFiles(operationsPath).Order(StringComparer.Ordinal).ToArray() : [])
            {
                var id = Path.GetFileNameWithoutExtension(file);
                if (!file.EndsWith(".xml", StringComparison.Ordinal) || !operationIds.Contains(id))
                {
                    problems.Add($"{file}(1,1): error {PolicyDiagnostics.UnknownOperation}: an operation policy must be named <operationId>.xml after an operation of the API definition ({string.Join(", ", operationIds.Order(StringComparer.Ordinal))})");
                    continue;
                }

                if (TryLoad(() => Load(File.ReadAllText(file), file, PolicyScope.Operation, namedValues, apimPath), problems, loaded) is { } operation)
                {
                    operations[id] = operation;
                }
            }

            if (problems.Count > 0)
            {
                loaded.ForEach(d => d.Dispose());
                throw new PolicyLoadException(problems);
            }

            return new ApiPolicies(global!, api!, operations);
        }
        catch (Exception ex) when (ex is not PolicyLoadException)
        {
            // An unreadable file, say: the documents compiled so far are unloaded before the error goes up.
            loaded.ForEach(d => d.Dispose());
            throw;
        }
    }

    public static PolicyDocument Load(string text, string file, PolicyScope scope, NamedValues namedValues, string? apimPath = null) =>
        PolicyParser.Parse(namedValues.Substitute(text, file), file, scope, apimPath is null ? null : new FragmentSource(apimPath, namedValues));

    private static PolicyDocument? TryLoad(Func<PolicyDocument> load, List<string> problems, List<PolicyDocument> loaded)
    {
        try
        {
            var document = load();
            loaded.Add(document);
            return document;
        }
        catch (PolicyLoadException ex)
        {
            problems.AddRange(ex.Problems);
            return null;
        }
    }

    private static string ReadFile(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new PolicyLoadException([$"{path}(1,1): error {PolicyDiagnostics.MalformedXml}: file not found"]);

    private static string DefaultGlobalPolicy()
    {
        using var stream = typeof(PolicyLoader).Assembly.GetManifestResourceStream("default-global-policy.xml")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// The policy documents of an API: the global and API scopes, and the operations that have their own. A product's
/// policy, when the caller's subscription belongs to a product that has one, runs between the global and the API scope.
/// </summary>
internal sealed class ApiPolicies(PolicyDocument global, PolicyDocument api, IReadOnlyDictionary<string, PolicyDocument> operations) : IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(PolicyDocument? Product, string Operation), PolicyChain> _chains = new();

    /// <summary>Every document of the API, outermost first (product documents belong to their products).</summary>
    public IEnumerable<PolicyDocument> Documents => new[] { global, api }.Concat(operations.Values);

    /// <summary>The scopes that apply to an operation, with the product's policy when there is one.</summary>
    public PolicyChain ChainFor(string operationId, PolicyDocument? product = null) =>
        _chains.GetOrAdd((product, operationId), key =>
        {
            var scopes = new List<PolicyDocument> { global };
            if (key.Product is not null)
            {
                scopes.Add(key.Product);
            }

            scopes.Add(api);
            if (operations.TryGetValue(key.Operation, out var operation))
            {
                scopes.Add(operation);
            }

            return new PolicyChain(scopes);
        });

    public void Dispose()
    {
        foreach (var document in Documents)
        {
            document.Dispose();
        }
    }
}
