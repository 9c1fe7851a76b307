using System.Text.Json.Nodes;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// examples/semantic-cache-content-safety as azd deploys it when asked (the parameter semanticCacheContentSafety, from
/// EXAMPLE_SEMANTIC_CACHE_CONTENT_SAFETY): off by default, and on it adds the example's artefacts, an Azure Managed Redis
/// with RediSearch as API Management's external cache, and API Management's own identity with access to the embeddings.
/// </summary>
[Collection(InfraTemplateGroup.Name)]
public sealed class SemanticCacheExampleTemplateTests(InfraTemplate template)
{
    private const string Service = "Microsoft.ApiManagement/service";
    private const string Redis = "Microsoft.Cache/redisEnterprise";
    private const string RedisDatabases = "Microsoft.Cache/redisEnterprise/databases";
    private static readonly string Example = Path.Combine(InfraTemplate.RepoRoot, "examples", "semantic-cache-content-safety");

    [Fact]
    public void Default_DeploysNeitherTheExampleNorItsCache()
    {
        Assert.Empty(template.OfType(Redis));
        Assert.Empty(template.OfType($"{Service}/caches"));
        Assert.Empty(template.OfType($"{Service}/policies"));
        Assert.Null(template.FindApim($"{Service}/policyFragments", "semantic-cache-lookup"));
        Assert.Equal("UserAssigned", template.Sole(Service)["identity"]!["type"]!.GetValue<string>());
        Assert.Equal("${EXAMPLE_SEMANTIC_CACHE_CONTENT_SAFETY=false}", MainParameters()["semanticCacheContentSafety"]!["value"]!.GetValue<string>());
        Assert.False(template.Compiled["parameters"]!["semanticCacheContentSafety"]!["defaultValue"]!.GetValue<bool>());
    }

    [Fact]
    public async Task On_DeploysTheExamplesPolicyFragmentsAndNamedValues_AsWritten()
    {
        var snapshot = await OnAsync();

        var global = Assert.Single(snapshot.OfType($"{Service}/policies"))["properties"]!;
        Assert.Equal("rawxml", global["format"]!.GetValue<string>());
        Assert.Equal(File.ReadAllText(Path.Combine(Example, "global-policy.xml")), global["value"]!.GetValue<string>());
        foreach (var file in Directory.GetFiles(Path.Combine(Example, "fragments"), "*.xml"))
        {
            var fragment = snapshot.Apim($"{Service}/policyFragments", Path.GetFileNameWithoutExtension(file))["properties"]!;
            Assert.Equal(File.ReadAllText(file), fragment["value"]!.GetValue<string>());
        }

        // The shipped fragments are still there, unchanged in number: the example adds, it does not replace.
        Assert.Equal(template.OfType($"{Service}/policyFragments").Count() + 3, snapshot.OfType($"{Service}/policyFragments").Count());
        var namedValues = JsonNode.Parse(File.ReadAllText(Path.Combine(Example, "named-values.json")))!["namedValues"]!.AsArray();
        foreach (var entry in namedValues.Where(e => e!["value"] is not null))
        {
            var deployed = snapshot.Apim($"{Service}/namedValues", entry!["name"]!.GetValue<string>())["properties"]!;
            Assert.Equal(entry["value"]!.GetValue<string>(), deployed["value"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task On_DeploysAzureManagedRedisWithRediSearch_AsApiManagementsExternalCache()
    {
        var snapshot = await OnAsync();

        var redis = Assert.Single(snapshot.OfType(Redis));
        var database = Assert.Single(snapshot.OfType(RedisDatabases));
        var redisVersion = redis["apiVersion"]!.GetValue<string>();
        var sku = redis["sku"]!["name"]!.GetValue<string>();
        var properties = database["properties"]!;

        Assert.Equal($"redis-{template.ResourceToken}", redis["name"]!.GetValue<string>());
        Assert.Equal(TemplateSnapshot.Location, redis["location"]!.GetValue<string>());
        Assert.StartsWith("Balanced_", sku, StringComparison.Ordinal);
        Assert.Contains(sku, AzureResourceTypes.ListedValues($"{Redis}@{redisVersion}", "sku", "name"));
        Assert.Equal($"{redis["name"]}/default", database["name"]!.GetValue<string>());

        // RediSearch needs the Enterprise clustering policy and no eviction; API Management connects with an access key.
        Assert.Equal("RediSearch", Assert.Single(properties["modules"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal("EnterpriseCluster", properties["clusteringPolicy"]!.GetValue<string>());
        Assert.Equal("NoEviction", properties["evictionPolicy"]!.GetValue<string>());
        Assert.Equal("Enabled", properties["accessKeysAuthentication"]!.GetValue<string>());
        Assert.Equal("Encrypted", properties["clientProtocol"]!.GetValue<string>());
        Assert.Contains("Enabled", AzureResourceTypes.ListedValues($"{RedisDatabases}@{redisVersion}", "properties", "accessKeysAuthentication"));

        var cache = snapshot.Apim($"{Service}/caches", "default")["properties"]!;
        Assert.Equal("default", cache["useFromLocation"]!.GetValue<string>());
        Assert.Equal(10000, properties["port"]!.GetValue<int>());

        // The key is read at deployment time, so offline the connection string is still its expression: the cache's host,
        // the database's port, and the database's primary key.
        var connection = cache["connectionString"]!.GetValue<string>();
        Assert.StartsWith("[format('{0}:{1},password={2},ssl=True,abortConnect=False', ", connection, StringComparison.Ordinal);
        var redisId = redis["id"]!.GetValue<string>();
        Assert.Contains($"reference('{redisId}', '{redisVersion}').hostName, 10000, ", connection, StringComparison.Ordinal);
        Assert.EndsWith($"listKeys('{redisId}/databases/default', '{redisVersion}').primaryKey)]", connection, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_GivesApiManagementASystemAssignedIdentity_AllowedOnTheEmbeddingsAccount()
    {
        var snapshot = await OnAsync();

        var identity = snapshot.Sole(Service)["identity"]!;
        Assert.Equal("SystemAssigned, UserAssigned", identity["type"]!.GetValue<string>());
        Assert.Single(identity["userAssignedIdentities"]!.AsObject());

        // One more "Cognitive Services OpenAI User" assignment than the default deploys, on the account that serves the
        // embeddings backend.
        var roles = snapshot.OfType("Microsoft.Authorization/roleAssignments").ToList();
        Assert.Equal(template.OfType("Microsoft.Authorization/roleAssignments").Count() + 1, roles.Count);
        var backend = Assert.Single(JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.ApimPath, "topology.json")))!["backends"]!.AsArray(), b => (string?)b!["id"] == "embeddings-backend")!;
        var account = backend["account"]!.GetValue<string>();
        Assert.Contains(roles, r => r["id"]!.GetValue<string>().Contains($"/Microsoft.CognitiveServices/accounts/{account}/providers/Microsoft.Authorization/roleAssignments/", StringComparison.OrdinalIgnoreCase)
            && r["properties"]!["roleDefinitionId"]!.GetValue<string>().EndsWith("/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd", StringComparison.Ordinal));
    }

    private Task<TemplateSnapshot> OnAsync() => template.SnapshotAsync([.. InfraTemplate.Parameters(), "param semanticCacheContentSafety = true"]);

    private static JsonObject MainParameters() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.InfraPath, "main.parameters.json")))!["parameters"]!.AsObject();
}
