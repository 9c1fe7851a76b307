using System.Text.Json.Nodes;
using Gateway.Apim;
using Gateway.Apim.Model;

namespace Infra.Tests.Support;

/// <summary>What a deployment of an apim/ folder must contain, file by file, as API Management resources.</summary>
/// <param name="File">The file under apim/ that asks for it.</param>
/// <param name="Type">The ARM resource type.</param>
/// <param name="Name">The name under the API Management service (<c>azure-openai/policy</c>).</param>
/// <param name="Value">The text <c>properties.value</c> must equal character for character, when the file is a text API Management stores as is.</param>
internal sealed record ApimArtefact(string File, string Type, string Name, string? Value = null)
{
    private const string Service = "Microsoft.ApiManagement/service";
    private const string Apis = "apis";
    private const string Operations = "operations";
    private const string Products = "products";
    private const string Fragments = "fragments";
    private const string GlobalPolicy = "global-policy.xml";

    /// <summary>
    /// Every file of the folder, each with the resources it asks for. A file no rule knows is returned with no
    /// artefact, so that a new kind of artefact in apim/ cannot go undeployed unnoticed.
    /// </summary>
    public static (IReadOnlyList<ApimArtefact> Artefacts, IReadOnlyList<string> Unknown) Read(string apimPath)
    {
        var artefacts = new List<ApimArtefact>();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        void Add(string path, string type, string name, bool withValue = false)
        {
            claimed.Add(Path.GetFullPath(path));
            artefacts.Add(new ApimArtefact(Path.GetRelativePath(apimPath, path), type, name, withValue ? System.IO.File.ReadAllText(path) : null));
        }

        var topologyPath = Path.Combine(apimPath, Topology.FileName);
        foreach (var backend in Topology.Load(apimPath).Backends)
        {
            Add(topologyPath, $"{Service}/backends", backend.Id);
        }

        var namedValuesPath = Path.Combine(apimPath, "named-values.json");
        if (System.IO.File.Exists(namedValuesPath))
        {
            foreach (var entry in JsonNode.Parse(System.IO.File.ReadAllText(namedValuesPath))!["namedValues"]?.AsArray() ?? [])
            {
                Add(namedValuesPath, $"{Service}/namedValues", entry!["name"]!.GetValue<string>());
            }
        }

        var subscriptionsPath = Path.Combine(apimPath, SubscriptionDefinition.FileName);
        foreach (var subscription in SubscriptionDefinition.Load(apimPath))
        {
            Add(subscriptionsPath, $"{Service}/subscriptions", subscription.Name);
        }

        foreach (var user in UserDefinition.Load(apimPath))
        {
            Add(subscriptionsPath, $"{Service}/users", user.Id);
        }

        foreach (var folder in Folders(Path.Combine(apimPath, Apis)))
        {
            var api = ApiEntity.Load(folder);
            Add(Path.Combine(folder, ApiEntity.FileName), $"{Service}/apis", api.Id);
            Add(Path.Combine(folder, api.Definition), $"{Service}/apis", api.Id, withValue: true);
            Add(Path.Combine(folder, api.Policy), $"{Service}/apis/policies", $"{api.Id}/policy", withValue: true);
            foreach (var file in Files(Path.Combine(folder, Operations)).Where(f => f.EndsWith(".xml", StringComparison.Ordinal)))
            {
                Add(file, $"{Service}/apis/operations/policies", $"{api.Id}/{Path.GetFileNameWithoutExtension(file)}/policy", withValue: true);
            }
        }

        foreach (var (product, folder) in ProductDefinition.LoadAll(apimPath))
        {
            var productPath = Path.Combine(folder, ProductDefinition.FileName);
            Add(productPath, $"{Service}/products", product.Id);
            foreach (var api in product.Apis ?? [])
            {
                Add(productPath, $"{Service}/products/apis", $"{product.Id}/{api}");
            }

            if (product.Policy is { } policy)
            {
                Add(Path.Combine(folder, policy), $"{Service}/products/policies", $"{product.Id}/policy", withValue: true);
            }
        }

        foreach (var file in Files(Path.Combine(apimPath, Fragments)).Where(f => f.EndsWith(".xml", StringComparison.Ordinal)))
        {
            Add(file, $"{Service}/policyFragments", Path.GetFileNameWithoutExtension(file), withValue: true);
        }

        var globalPath = Path.Combine(apimPath, GlobalPolicy);
        if (System.IO.File.Exists(globalPath))
        {
            Add(globalPath, $"{Service}/policies", "policy", withValue: true);
        }

        var unknown = Directory.GetFiles(apimPath, "*", SearchOption.AllDirectories)
            .Where(f => !claimed.Contains(Path.GetFullPath(f)))
            .Select(f => Path.GetRelativePath(apimPath, f))
            .Order(StringComparer.Ordinal)
            .ToList();
        return (artefacts, unknown);
    }

    /// <summary>Every way the template falls short of the folder: artefacts it does not deploy, texts that differ, files no rule knows.</summary>
    public static IReadOnlyList<string> Missing(string apimPath, TemplateSnapshot template)
    {
        var (artefacts, unknown) = Read(apimPath);
        var problems = unknown.Select(f => $"{f}: no rule says how this file is deployed").ToList();
        foreach (var artefact in artefacts)
        {
            if (template.FindApim(artefact.Type, artefact.Name) is not { } resource)
            {
                problems.Add($"{artefact.File}: the template deploys no {artefact.Type} named {artefact.Name}");
            }
            else if (artefact.Value is { } expected && resource["properties"]?["value"]?.GetValue<string>() is var actual && actual != expected)
            {
                problems.Add($"{artefact.File}: {artefact.Type} {artefact.Name} differs from the file {FirstDifference(expected, actual)}");
            }
        }

        return problems;
    }

    /// <summary>Where two texts part, for a readable failure.</summary>
    public static string FirstDifference(string expected, string? actual)
    {
        if (actual is null)
        {
            return "(the resource has no value)";
        }

        var at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at])
        {
            at++;
        }

        return $"at character {at} (file length {expected.Length}, deployed length {actual.Length})";
    }

    private static string[] Folders(string path) =>
        Directory.Exists(path) ? [.. Directory.GetDirectories(path).Order(StringComparer.Ordinal)] : [];

    private static string[] Files(string path) =>
        Directory.Exists(path) ? [.. Directory.GetFiles(path).Order(StringComparer.Ordinal)] : [];
}
