using Gateway.Apim;

namespace Gateway.Policies;

/// <summary>
/// Loads the policy chain of an API: the global policy (<c>apim/global-policy.xml</c>, or API Management's default with
/// its <c>forward-request</c>) around the API's policy. Named values are substituted before parsing.
/// </summary>
internal static class PolicyLoader
{
    public const string GlobalPolicyFileName = "global-policy.xml";

    public static PolicyChain LoadChain(string apimPath, string apiPolicyPath, NamedValues namedValues)
    {
        var globalPath = Path.Combine(apimPath, GlobalPolicyFileName);
        var problems = new List<string>();
        var global = File.Exists(globalPath)
            ? TryLoad(() => Load(File.ReadAllText(globalPath), globalPath, "global", namedValues, apimPath), problems)
            : TryLoad(() => Load(DefaultGlobalPolicy(), "default-global-policy.xml", "global", namedValues, apimPath), problems);
        var api = TryLoad(() => Load(ReadFile(apiPolicyPath), apiPolicyPath, "api", namedValues, apimPath), problems);
        if (problems.Count > 0)
        {
            global?.Dispose();
            api?.Dispose();
            throw new PolicyLoadException(problems);
        }

        return new PolicyChain([global!, api!]);
    }

    public static PolicyDocument Load(string text, string file, string scope, NamedValues namedValues, string? apimPath = null) =>
        PolicyParser.Parse(namedValues.Substitute(text, file), file, scope, apimPath is null ? null : new FragmentSource(apimPath, namedValues));

    private static PolicyDocument? TryLoad(Func<PolicyDocument> load, List<string> problems)
    {
        try
        {
            return load();
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
