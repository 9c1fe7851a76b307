using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Apim.Model;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// What a user sets per azd environment (region, tier, units, model versions and capacities) and the bounds the template
/// holds them to: those of API Management and Azure OpenAI, so a wrong value fails at the prompt or in the preflight,
/// not half-way through a deployment.
/// </summary>
[Collection(InfraTemplateGroup.Name)]
public sealed partial class DeploymentParametersTests(InfraTemplate template)
{
    private const string Deployments = "Microsoft.CognitiveServices/accounts/deployments";

    private static readonly Topology Topology = Topology.Load(InfraTemplate.ApimPath);
    private static readonly JsonObject Regions = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.InfraPath, "apim-v2-regions.json")))!["tiers"]!.AsObject();
    private static readonly JsonObject MainParameters = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.InfraPath, "main.parameters.json")))!["parameters"]!.AsObject();

    [Fact]
    public void Location_AllowsExactlyTheRegionsWithApiManagementV2Tiers()
    {
        var allowed = AllowedValues("location");
        var listed = Regions.SelectMany(t => t.Value!.AsArray().Select(r => r!.GetValue<string>())).Distinct().Order(StringComparer.Ordinal);

        Assert.Equal(listed, allowed.Order(StringComparer.Ordinal));
        Assert.Contains(TemplateSnapshot.Location, allowed);
    }

    [Fact]
    public void Tiers_AreTheV2Tiers_WithARegionListEach_AndAreSkuNamesTheServiceApiVersionLists()
    {
        var service = Resource("Microsoft.ApiManagement/service");
        var apiVersion = service["apiVersion"]!.GetValue<string>();
        var listed = AzureResourceTypes.ListedValues($"Microsoft.ApiManagement/service@{apiVersion}", "sku", "name");

        Assert.Equal(["BasicV2", "PremiumV2", "StandardV2"], AllowedValues("apimSku").Order(StringComparer.Ordinal));
        Assert.Equal(AllowedValues("apimSku").Order(StringComparer.Ordinal), Regions.Select(t => t.Key).Order(StringComparer.Ordinal));
        Assert.All(AllowedValues("apimSku"), sku => Assert.Contains(sku, listed));
        Assert.All(Regions.Select(t => t.Value!.AsArray().Select(r => r!.GetValue<string>())), regions => Assert.Subset(AllowedValues("location").ToHashSet(), regions.ToHashSet()));
    }

    [Fact]
    public void Tiers_TheServiceUsedToDeploy_2024_06_01_Preview_DidNotListPremiumV2()
    {
        // Why the service moved to a newer API version: the Bicep types say which SKU names each version knows.
        Assert.DoesNotContain("PremiumV2", AzureResourceTypes.ListedValues("Microsoft.ApiManagement/service@2024-06-01-preview", "sku", "name"));
        Assert.Contains("StandardV2", AzureResourceTypes.ListedValues("Microsoft.ApiManagement/service@2024-06-01-preview", "sku", "name"));
    }

    [Fact]
    public void Units_AreBoundedAsApiManagementBoundsThem()
    {
        var units = template.Compiled["parameters"]!["apimSkuCapacity"]!;

        Assert.Equal(1, units["minValue"]!.GetValue<int>());
        Assert.Equal(30, units["maxValue"]!.GetValue<int>());
        Assert.Equal(1, units["defaultValue"]!.GetValue<int>());
        Assert.Equal("${APIM_SKU_CAPACITY=1}", MainParameters["apimSkuCapacity"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void MainParameters_MapAVersionAndACapacityForEveryDeploymentOfTheTopology()
    {
        var settings = MainParameters["deploymentSettings"]!["value"]!.AsObject();
        var names = Topology.Accounts.SelectMany(a => a.Deployments).Select(d => d.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

        Assert.Equal(names, settings.Select(s => s.Key).Order(StringComparer.Ordinal));
        foreach (var (name, value) in settings)
        {
            // The variable names the preflight derives the same way: AOAI_ and the deployment name in capitals, every run
            // of other characters an underscore.
            var variable = "AOAI_" + NotAlphanumeric().Replace(name.ToUpperInvariant(), "_").Trim('_');
            Assert.Equal($"${{{variable}_VERSION=}}", value!["version"]!.GetValue<string>());
            Assert.Equal($"${{{variable}_CAPACITY=}}", value["capacity"]!.GetValue<string>());
        }
    }

    [Fact]
    public void DeploymentSettings_Empty_AsAzdSubstitutesThem_KeepTheTopologysVersionsAndCapacities()
    {
        // The shared snapshot has no settings at all; azd passes empty strings for unset variables: both keep the topology.
        var expected = Topology.Accounts.SelectMany(a => a.Deployments.Select(d => (a.Name, d.Name, d.Model.Version, d.Sku.Capacity)));

        Assert.Equal(expected, Deployed(template.Snapshot));
    }

    [Fact]
    public async Task DeploymentSettings_AVersionAndACapacity_ReplaceTheTopologysForThatDeploymentInEveryAccount()
    {
        var snapshot = await template.SnapshotAsync(
        [
            .. InfraTemplate.Parameters(),
            "param deploymentSettings = { 'gpt-4o': { version: '2026-03-05', capacity: '42' }, 'text-embedding-3-small': { version: '', capacity: '' } }",
        ]);

        var expected = Topology.Accounts.SelectMany(a => a.Deployments.Select(d => d.Name == "gpt-4o"
            ? (a.Name, d.Name, "2026-03-05", 42)
            : (a.Name, d.Name, d.Model.Version, d.Sku.Capacity)));
        Assert.Equal(expected, Deployed(snapshot));
    }

    private static IEnumerable<(string Account, string Deployment, string Version, int Capacity)> Deployed(TemplateSnapshot snapshot) =>
        snapshot.OfType(Deployments).Select(d =>
        {
            var name = d["name"]!.GetValue<string>().Split('/');
            return (name[0], name[1], d["properties"]!["model"]!["version"]!.GetValue<string>(), d["sku"]!["capacity"]!.GetValue<int>());
        });

    private List<string> AllowedValues(string parameter) =>
        [.. template.Compiled["parameters"]![parameter]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>())];

    /// <summary>A resource declaration of the compiled template or its modules, by type.</summary>
    private JsonObject Resource(string type)
    {
        static IEnumerable<JsonObject> All(JsonObject compiled)
        {
            var resources = compiled["resources"] switch
            {
                JsonArray array => array.Select(r => r!.AsObject()),
                JsonObject symbolic => symbolic.Select(p => p.Value!.AsObject()),
                _ => [],
            };
            foreach (var resource in resources)
            {
                yield return resource;
                if (resource["properties"]?["template"] is JsonObject nested)
                {
                    foreach (var inner in All(nested))
                    {
                        yield return inner;
                    }
                }
            }
        }

        return Assert.Single(All(template.Compiled), r => r["type"]?.GetValue<string>() == type);
    }

    [GeneratedRegex("[^A-Z0-9]+")]
    private static partial Regex NotAlphanumeric();
}
