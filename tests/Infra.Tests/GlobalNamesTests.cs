using System.Text.Json.Nodes;
using Gateway.Apim.Model;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// Names that are global across Azure (API Management's service name, the accounts' custom subdomains) come from azd's
/// environment, while apim/topology.json, which the local gateway runs, stays as written.
/// </summary>
[Collection(InfraTemplateGroup.Name)]
public sealed class GlobalNamesTests(InfraTemplate template)
{
    /// <summary>What the topology writes where the deployment puts the resource token.</summary>
    public const string Placeholder = "RESOURCE-TOKEN";

    private const string Accounts = "Microsoft.CognitiveServices/accounts";
    private const string Backends = "Microsoft.ApiManagement/service/backends";
    private const string Service = "Microsoft.ApiManagement/service";

    private static readonly Topology Topology = Topology.Load(InfraTemplate.ApimPath);

    [Fact]
    public void Topology_SpellsEveryCustomSubdomainWithThePlaceholder_InTheAccountAndItsBackendsUrls()
    {
        foreach (var account in Topology.Accounts)
        {
            Assert.Contains(Placeholder, account.CustomSubDomain, StringComparison.Ordinal);
            foreach (var backend in Topology.Backends.Where(b => b.Account == account.Name))
            {
                Assert.StartsWith($"https://{account.CustomSubDomain}.openai.azure.com/", backend.Url, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Topology_WithThePlaceholder_LoadsForTheLocalGateway_AndKeepsThePathTheAppHostUses()
    {
        // Locally nothing resolves the placeholder: the AppHost points each backend at its mock, keeping only the URL's
        // path (AppHost/TopologyExtensions.cs), and the gateway run alone is given every backend's URL.
        foreach (var backend in Topology.Backends.Where(b => !b.IsPool))
        {
            var url = new Uri(backend.Url!);

            Assert.Equal("/openai", url.AbsolutePath);
            Assert.Contains(Placeholder.ToLowerInvariant(), url.Host, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Deployment_PutsTheResourceTokenInEveryGlobalName()
    {
        var token = template.ResourceToken;

        Assert.Matches("^[a-z0-9]{13}$", token);
        Assert.Equal($"apim-{token}", template.Sole(Service)["name"]!.GetValue<string>());
        var subdomains = template.OfType(Accounts).Select(a => a["properties"]!["customSubDomainName"]!.GetValue<string>()).ToList();
        Assert.Equal(Topology.Accounts.Select(a => a.CustomSubDomain.Replace(Placeholder, token, StringComparison.Ordinal)), subdomains);
        Assert.All(subdomains, s => Assert.DoesNotContain(Placeholder, s, StringComparison.OrdinalIgnoreCase));
        Assert.All(template.OfType(Backends).Select(b => b["properties"]!["url"]?.GetValue<string>()).OfType<string>(), url => Assert.Contains(token, url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoEnvironments_InOneSubscriptionAndRegion_GetDifferentGlobalNames()
    {
        var other = await template.SnapshotAsync(InfraTemplate.Parameters("infra-test-2"));

        var names = GlobalNames(template.Snapshot);
        var otherNames = GlobalNames(other);

        Assert.Equal(names.Count, otherNames.Count);
        Assert.Empty(names.Intersect(otherNames, StringComparer.OrdinalIgnoreCase));
        Assert.Equal(1 + Topology.Accounts.Count + Topology.Backends.Count(b => !b.IsPool), names.Count);
    }

    [Fact]
    public async Task OneEnvironment_ExpandedTwice_GetsTheSameNames()
    {
        // The names are a function of the environment, not of the run: a second azd up updates what the first created.
        var again = await template.SnapshotAsync(InfraTemplate.Parameters());

        Assert.Equal(GlobalNames(template.Snapshot), GlobalNames(again));
    }

    /// <summary>API Management's service name, every custom subdomain, and every backend's host.</summary>
    private static List<string> GlobalNames(TemplateSnapshot snapshot) =>
    [
        snapshot.Sole(Service)["name"]!.GetValue<string>(),
        .. snapshot.OfType(Accounts).Select(a => a["properties"]!["customSubDomainName"]!.GetValue<string>()),
        .. snapshot.OfType(Backends).Select(b => b["properties"]!["url"]).OfType<JsonNode>().Select(u => new Uri(u.GetValue<string>()).Host),
    ];
}
