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
        var accounts = Topology.Accounts.Select(a => (a.Name, a.CustomSubDomain, Domain: "openai.azure.com"))
            .Concat(Topology.ContentSafetyAccounts.Select(a => (a.Name, a.CustomSubDomain, Domain: "cognitiveservices.azure.com")));
        foreach (var (name, subdomain, domain) in accounts)
        {
            Assert.Contains(Placeholder, subdomain, StringComparison.Ordinal);
            Assert.NotEmpty(Topology.SinglesOf(name));
            foreach (var backend in Topology.SinglesOf(name))
            {
                Assert.StartsWith($"https://{subdomain}.{domain}", backend.Url, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Topology_WithThePlaceholder_LoadsForTheLocalGateway_AndKeepsThePathTheAppHostUses()
    {
        // Locally nothing resolves the placeholder: the AppHost points each backend at its mock, keeping only the URL's
        // path (BackendDefinition.UrlPath: /openai, an embeddings backend's whole address, a Content Safety account's
        // root), and the gateway run alone is given every backend's URL.
        foreach (var backend in Topology.Backends.Where(b => !b.IsPool))
        {
            var url = new Uri(backend.Url!);
            var path = backend.Id switch
            {
                "embeddings-backend" => $"/openai/deployments/{backend.Deployment}/embeddings",
                _ when backend.ContentSafetyAccount is not null => "/",
                _ => "/openai",
            };

            Assert.Equal(path, url.AbsolutePath);
            Assert.Equal(path.TrimEnd('/'), backend.UrlPath);
            Assert.Contains(Placeholder.ToLowerInvariant(), url.Host, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Deployment_PutsTheResourceTokenInEveryGlobalName()
    {
        var token = template.ResourceToken;

        Assert.Matches("^[a-z0-9]{13}$", token);
        Assert.Equal($"apim-{token}", template.Sole(Service)["name"]!.GetValue<string>());
        var subdomains = template.OfType(Accounts).Select(a => a["properties"]!["customSubDomainName"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        var written = Topology.Accounts.Select(a => a.CustomSubDomain).Concat(Topology.ContentSafetyAccounts.Select(a => a.CustomSubDomain));
        Assert.Equal(written.Select(s => s.Replace(Placeholder, token, StringComparison.Ordinal)).Order(StringComparer.Ordinal), subdomains);
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
        Assert.Equal(1 + Topology.Accounts.Count + Topology.ContentSafetyAccounts.Count + Topology.Backends.Count(b => !b.IsPool), names.Count);
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
