using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Apim.Model;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// apim/topology.json as the compiled template deploys it: Azure OpenAI and Content Safety accounts, API Management
/// backends and pools.
/// </summary>
[Collection(InfraTemplateGroup.Name)]
public sealed class TopologyTemplateTests(InfraTemplate template)
{
    private const string Backends = "Microsoft.ApiManagement/service/backends";
    private const string Accounts = "Microsoft.CognitiveServices/accounts";
    private const string OpenAIUserRole = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
    private const string CognitiveServicesUserRole = "a97b65f3-24c7-4388-baec-2e87135dc908";

    private static readonly Topology Topology = Topology.Load(InfraTemplate.ApimPath);

    /// <summary>topology.json as written, for comparing whole objects (the records lose nothing, but JSON says it plainly).</summary>
    private static readonly JsonObject RawTopology = JsonNode.Parse(
        File.ReadAllText(Path.Combine(InfraTemplate.ApimPath, Topology.FileName)), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();

    [Fact]
    public void Backends_AreExactlyThoseOfTheTopology()
    {
        var deployed = template.OfType(Backends).Select(r => r["name"]!.GetValue<string>().Split('/')[^1]).Order(StringComparer.Ordinal);

        Assert.Equal(Topology.Backends.Select(b => b.Id).Order(StringComparer.Ordinal), deployed);
        Assert.Equal(10, Topology.Backends.Count);
    }

    [Fact]
    public void SingleBackends_EqualTheTopology_CircuitBreakerRuleIncluded()
    {
        var singles = Topology.Backends.Where(b => !b.IsPool).ToList();

        Assert.Equal(8, singles.Count);
        foreach (var backend in singles)
        {
            var properties = template.Apim(Backends, backend.Id)["properties"]!;
            var written = RawTopology["backends"]!.AsArray().Single(b => b!["id"]!.GetValue<string>() == backend.Id)!;

            Assert.Equal("Single", properties["type"]!.GetValue<string>());
            Assert.Equal(backend.Url!.Replace(GlobalNamesTests.Placeholder, template.ResourceToken, StringComparison.Ordinal), properties["url"]!.GetValue<string>());
            Assert.Equal(backend.Protocol, properties["protocol"]!.GetValue<string>());
            Assert.Equal(backend.Description, properties["description"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(written["circuitBreaker"], properties["circuitBreaker"]), $"{backend.Id}: circuit breaker {properties["circuitBreaker"]?.ToJsonString()} is not the topology's {written["circuitBreaker"]?.ToJsonString()}");
        }

        // The per-deployment backends (the two that Microsoft's samples name have no breaker): the numbers, spelled out,
        // one rule, tripping on the first 429 or 5xx within 10 s, for Retry-After or 10 s.
        var perDeployment = singles.Where(b => b.Id == $"{b.Account}-{b.Deployment}").ToList();
        Assert.Equal(6, perDeployment.Count);
        foreach (var backend in perDeployment)
        {
            var properties = template.Apim(Backends, backend.Id)["properties"]!;
            var rule = Assert.Single(properties["circuitBreaker"]!["rules"]!.AsArray())!;
            Assert.Equal(1, rule["failureCondition"]!["count"]!.GetValue<int>());
            Assert.Equal("PT10S", rule["failureCondition"]!["interval"]!.GetValue<string>());
            Assert.Equal([(429, 429), (500, 599)], rule["failureCondition"]!["statusCodeRanges"]!.AsArray().Select(r => (r!["min"]!.GetValue<int>(), r["max"]!.GetValue<int>())));
            Assert.Equal(["BackendConnectionFailure", "Timeout"], rule["failureCondition"]!["errorReasons"]!.AsArray().Select(r => r!.GetValue<string>()));
            Assert.Equal("PT10S", rule["tripDuration"]!.GetValue<string>());
            Assert.True(rule["acceptRetryAfter"]!.GetValue<bool>());
        }
    }

    [Fact]
    public void SingleBackends_PointAtTheirAccountsCustomSubdomain()
    {
        foreach (var backend in Topology.Backends.Where(b => b.AccountName is not null))
        {
            var account = template.OfType(Accounts).Single(a => a["name"]!.GetValue<string>() == backend.AccountName);
            var url = new Uri(template.Apim(Backends, backend.Id)["properties"]!["url"]!.GetValue<string>());
            var domain = backend.ContentSafetyAccount is null ? "openai.azure.com" : "cognitiveservices.azure.com";

            Assert.Equal($"{account["properties"]!["customSubDomainName"]!.GetValue<string>()}.{domain}", url.Host);
        }

        Assert.Equal(8, Topology.Backends.Count(b => b.AccountName is not null));
    }

    [Fact]
    public void BackendsOfMicrosoftsSamples_AreDeployedOnTheServicesIdentity_ItsClientIdAdded()
    {
        var identity = template.Sole("Microsoft.ManagedIdentity/userAssignedIdentities")["id"]!.GetValue<string>();

        // The topology writes managedIdentity without clientId ("the gateway's identity"); API Management's one identity
        // is user-assigned, so the deployment names its client id.
        foreach (var id in new[] { "content-safety-backend", "embeddings-backend" })
        {
            var credentials = template.Apim(Backends, id)["properties"]!["credentials"]!;
            var expected = JsonNode.Parse($$"""{ "managedIdentity": { "resource": "https://cognitiveservices.azure.com", "clientId": "[reference('{{identity}}', '2024-11-30').clientId]" } }""");
            Assert.True(JsonNode.DeepEquals(expected, credentials), $"{id}: deployed credentials {credentials.ToJsonString()}");
        }

        Assert.Equal("https://contentsafety-eastus2-" + template.ResourceToken + ".cognitiveservices.azure.com", template.Apim(Backends, "content-safety-backend")["properties"]!["url"]!.GetValue<string>());
        Assert.Equal(
            "https://aoai-eastus2-" + template.ResourceToken + ".openai.azure.com/openai/deployments/text-embedding-3-small/embeddings",
            template.Apim(Backends, "embeddings-backend")["properties"]!["url"]!.GetValue<string>());
    }

    [Fact]
    public void Pools_EqualTheTopology_MembersByIdPriorityAndWeight()
    {
        var pools = Topology.Backends.Where(b => b.IsPool).ToList();

        Assert.Equal(2, pools.Count);
        foreach (var pool in pools)
        {
            var properties = template.Apim(Backends, pool.Id)["properties"]!;
            Assert.Equal("Pool", properties["type"]!.GetValue<string>());
            Assert.Equal(pool.Description, properties["description"]!.GetValue<string>());

            var deployed = properties["pool"]!["services"]!.AsArray()
                .Select(m => (Id: m!["id"]!.GetValue<string>(), Priority: m["priority"]!.GetValue<int>(), Weight: m["weight"]!.GetValue<int>()));
            var expected = pool.Pool!.Services!
                .Select(m => (Id: template.Apim(Backends, m.BackendId)["id"]!.GetValue<string>(), Priority: m.Priority!.Value, Weight: m.Weight!.Value));
            Assert.Equal(expected, deployed);
        }

        // gpt-4o: East US 2 alone at priority 1, then Sweden Central and Japan East by capacity (100:80).
        var chat = template.Apim(Backends, "gpt-4o-pool")["properties"]!["pool"]!["services"]!.AsArray();
        Assert.Equal([(1, 1), (2, 100), (2, 80)], chat.Select(m => (m!["priority"]!.GetValue<int>(), m["weight"]!.GetValue<int>())));
        Assert.EndsWith("/backends/aoai-eastus2-gpt-4o", chat[0]!["id"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Accounts_OnePerTopologyAccount_OpenAIWithKeysDisabled_AndTheirDeployments()
    {
        Assert.Equal(Topology.Accounts.Count, OfKind("OpenAI").Count());
        Assert.Equal(Topology.Accounts.Count + Topology.ContentSafetyAccounts.Count, template.OfType(Accounts).Count());
        Assert.Equal(3, Topology.Accounts.Count);
        foreach (var account in Topology.Accounts)
        {
            var resource = OfKind("OpenAI").Single(a => a["name"]!.GetValue<string>() == account.Name);
            Assert.Equal(account.Region, resource["location"]!.GetValue<string>());
            Assert.Equal(account.CustomSubDomain.Replace(GlobalNamesTests.Placeholder, template.ResourceToken, StringComparison.Ordinal), resource["properties"]!["customSubDomainName"]!.GetValue<string>());
            Assert.True(resource["properties"]!["disableLocalAuth"]!.GetValue<bool>());

            var deployments = template.OfType($"{Accounts}/deployments").Where(d => d["name"]!.GetValue<string>().StartsWith(account.Name + "/", StringComparison.Ordinal)).ToList();
            Assert.Equal(account.Deployments.Count, deployments.Count);
            foreach (var deployment in account.Deployments)
            {
                var deployed = deployments.Single(d => d["name"]!.GetValue<string>() == $"{account.Name}/{deployment.Name}");
                Assert.Equal(deployment.Sku.Name, deployed["sku"]!["name"]!.GetValue<string>());
                Assert.Equal(deployment.Sku.Capacity, deployed["sku"]!["capacity"]!.GetValue<int>());
                Assert.Equal(deployment.Model.Format, deployed["properties"]!["model"]!["format"]!.GetValue<string>());
                Assert.Equal(deployment.Model.Name, deployed["properties"]!["model"]!["name"]!.GetValue<string>());
                Assert.Equal(deployment.Model.Version, deployed["properties"]!["model"]!["version"]!.GetValue<string>());
            }
        }

        Assert.Equal([150, 120, 100, 120, 80, 60], template.OfType($"{Accounts}/deployments").Select(d => d["sku"]!["capacity"]!.GetValue<int>()));
    }

    [Fact]
    public void ContentSafetyAccounts_OnePerTopologyAccount_ContentSafetyS0WithKeysDisabled()
    {
        var deployed = OfKind("ContentSafety").ToList();

        Assert.Equal(Topology.ContentSafetyAccounts.Count, deployed.Count);
        Assert.Single(Topology.ContentSafetyAccounts);
        foreach (var account in Topology.ContentSafetyAccounts)
        {
            var resource = Assert.Single(deployed, a => a["name"]!.GetValue<string>() == account.Name);
            Assert.Equal("2024-10-01", resource["apiVersion"]!.GetValue<string>());
            Assert.Equal("S0", resource["sku"]!["name"]!.GetValue<string>());
            Assert.Equal(account.Region, resource["location"]!.GetValue<string>());
            Assert.Equal(account.CustomSubDomain.Replace(GlobalNamesTests.Placeholder, template.ResourceToken, StringComparison.Ordinal), resource["properties"]!["customSubDomainName"]!.GetValue<string>());
            Assert.True(resource["properties"]!["disableLocalAuth"]!.GetValue<bool>());
            Assert.Equal("Enabled", resource["properties"]!["publicNetworkAccess"]!.GetValue<string>());
            Assert.DoesNotContain(template.OfType($"{Accounts}/deployments"), d => d["name"]!.GetValue<string>().StartsWith(account.Name + "/", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("OpenAI", OpenAIUserRole)]
    [InlineData("ContentSafety", CognitiveServicesUserRole)]
    public void Accounts_EachGrantsTheIdentityItsRole_OpenAIUserOrCognitiveServicesUser(string kind, string role)
    {
        var identity = template.Sole("Microsoft.ManagedIdentity/userAssignedIdentities")["id"]!.GetValue<string>();
        var assignments = template.OfType("Microsoft.Authorization/roleAssignments").ToList();

        Assert.Equal(Topology.Accounts.Count + Topology.ContentSafetyAccounts.Count, assignments.Count);
        Assert.NotEmpty(OfKind(kind));
        foreach (var account in OfKind(kind))
        {
            var scope = account["id"]!.GetValue<string>() + "/providers/Microsoft.Authorization/roleAssignments/";
            var assignment = Assert.Single(assignments, a => a["id"]!.GetValue<string>().StartsWith(scope, StringComparison.Ordinal))["properties"]!;

            Assert.EndsWith($"/providers/Microsoft.Authorization/roleDefinitions/{role}", assignment["roleDefinitionId"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal($"[reference('{identity}', '2024-11-30').principalId]", assignment["principalId"]!.GetValue<string>());
            Assert.Equal("ServicePrincipal", assignment["principalType"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Deployments_OfOneAccount_AreCreatedOneAtATime()
    {
        // Azure OpenAI refuses concurrent deployment changes on an account: the compiled copy loop must be serial.
        var loops = Resources(template.Compiled).Where(r => r["type"]?.GetValue<string>() == $"{Accounts}/deployments").ToList();

        var loop = Assert.Single(loops)["copy"]!;
        Assert.Equal("serial", loop["mode"]!.GetValue<string>());
        Assert.Equal(1, loop["batchSize"]!.GetValue<int>());
    }

    /// <summary>The Cognitive Services accounts of one kind (<c>OpenAI</c>, <c>ContentSafety</c>).</summary>
    private IEnumerable<JsonObject> OfKind(string kind) => template.OfType(Accounts).Where(a => a["kind"]!.GetValue<string>() == kind);

    /// <summary>Every resource declaration of a compiled template and its nested module templates.</summary>
    private static IEnumerable<JsonObject> Resources(JsonObject compiled)
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
                foreach (var inner in Resources(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}
