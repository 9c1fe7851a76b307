using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Apim;
using Gateway.Apim.Model;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>API Management as the compiled template deploys it: the API, its policy, named values, subscriptions, logging.</summary>
[Collection(InfraTemplateGroup.Name)]
public sealed partial class ApimTemplateTests(InfraTemplate template)
{
    private const string Service = "Microsoft.ApiManagement/service";
    private static readonly string ApiFolder = Path.Combine(InfraTemplate.ApimPath, "apis", "azure-openai");
    private static readonly JsonDocumentOptions JsonOptions = new() { CommentHandling = JsonCommentHandling.Skip };

    [Fact]
    public void ApiPolicy_IsPolicyXmlCharacterForCharacter_NamedValuesIntact()
    {
        var api = ApiEntity.Load(ApiFolder);
        var file = File.ReadAllText(Path.Combine(ApiFolder, api.Policy));

        var policy = template.Apim($"{Service}/apis/policies", $"{api.Id}/policy")["properties"]!;

        Assert.Equal("rawxml", policy["format"]!.GetValue<string>());
        var deployed = policy["value"]!.GetValue<string>();
        Assert.True(file == deployed, "apis/azure-openai/policy.xml differs " + ApimArtefact.FirstDifference(file, deployed));

        // The named values are used in its fragments, which deploy as written too (ApimFolderCoverageTests).
        Assert.Empty(NamedValueReferences(deployed));
    }

    [Fact]
    public void NamedValues_CoverEveryNameTheDeployedPoliciesAndFragmentsUse()
    {
        string[] policyTypes = [$"{Service}/policies", $"{Service}/apis/policies", $"{Service}/apis/operations/policies", $"{Service}/products/policies", $"{Service}/policyFragments"];
        var texts = policyTypes.SelectMany(template.OfType).Select(r => r["properties"]!["value"]!.GetValue<string>()).ToList();
        var deployed = template.OfType($"{Service}/namedValues").ToDictionary(r => r["name"]!.GetValue<string>().Split('/')[^1], r => r["properties"]!, StringComparer.Ordinal);

        var used = texts.SelectMany(NamedValueReferences).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(texts);
        Assert.Equal(["account-backends", "aoai-resource", "managed-identity-client-id", "subscription-tokens-per-minute"], used.Order(StringComparer.Ordinal));
        Assert.All(used, name => Assert.True(deployed.TryGetValue(name, out var value) && value["value"] is not null, $"{{{{{name}}}}} has no named value with a value"));
    }

    [Fact]
    public void NamedValues_TakeTheirValuesFromNamedValuesJson_AndTheClientIdFromTheIdentity()
    {
        var entries = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.ApimPath, "named-values.json")), documentOptions: JsonOptions)!["namedValues"]!.AsArray();
        var identity = template.Sole("Microsoft.ManagedIdentity/userAssignedIdentities")["id"]!.GetValue<string>();

        Assert.Equal(entries.Count, template.OfType($"{Service}/namedValues").Count());
        foreach (var entry in entries)
        {
            var name = entry!["name"]!.GetValue<string>();
            var properties = template.Apim($"{Service}/namedValues", name)["properties"]!;
            Assert.Equal(name, properties["displayName"]!.GetValue<string>());
            if (entry["value"] is { } value)
            {
                Assert.Equal(value.GetValue<string>(), properties["value"]!.GetValue<string>());
                Assert.False(properties["secret"]!.GetValue<bool>());
            }
        }

        // Only Azure knows the client id: the value stays an expression reading it from the identity at deployment.
        var clientId = template.Apim($"{Service}/namedValues", "managed-identity-client-id")["properties"]!;
        Assert.Contains($"reference('{identity}', '2024-11-30').clientId", clientId["value"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(clientId["secret"]!.GetValue<bool>());
    }

    [Fact]
    public void Api_ImportsOpenApiJson_OnPathOpenai_WithApiKeyAsSubscriptionKeyNames()
    {
        var api = ApiEntity.Load(ApiFolder);
        var definition = File.ReadAllText(Path.Combine(ApiFolder, api.Definition));

        var properties = template.Apim($"{Service}/apis", api.Id)["properties"]!;

        Assert.Equal("openapi+json", properties["format"]!.GetValue<string>());
        Assert.True(definition == properties["value"]!.GetValue<string>(), "the imported definition differs from openapi.json " + ApimArtefact.FirstDifference(definition, properties["value"]!.GetValue<string>()));
        Assert.Equal("openai", properties["path"]!.GetValue<string>());
        Assert.Equal("api-key", properties["subscriptionKeyParameterNames"]!["header"]!.GetValue<string>());
        Assert.Equal("api-key", properties["subscriptionKeyParameterNames"]!["query"]!.GetValue<string>());
        Assert.True(properties["subscriptionRequired"]!.GetValue<bool>());
        Assert.Equal(["https"], properties["protocols"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(api.DisplayName, properties["displayName"]!.GetValue<string>());
    }

    [Fact]
    public void CompiledTemplate_InlinesTheFilesOfApim()
    {
        // loadTextContent and loadJsonContent put the files into main.json at build time: the template carries them,
        // byte for byte (texts) and value for value (JSON), and reads nothing at deployment.
        var strings = new HashSet<string>(StringComparer.Ordinal);
        var nodes = new List<JsonNode>();
        Walk(template.Compiled, strings, nodes);

        foreach (var text in new[] { "apis/azure-openai/policy.xml", "apis/azure-openai/openapi.json" })
        {
            Assert.True(strings.Contains(File.ReadAllText(Path.Combine(InfraTemplate.ApimPath, text))), $"main.json does not carry {text} as it is");
        }

        foreach (var json in new[] { "topology.json", "named-values.json", "subscriptions.json", "apis/azure-openai/api.json" })
        {
            var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.ApimPath, json)), documentOptions: JsonOptions);
            Assert.True(nodes.Any(n => JsonNode.DeepEquals(n, expected)), $"main.json does not carry {json}");
        }
    }

    [Fact]
    public void Subscriptions_AreThoseOfSubscriptionsJson()
    {
        var subscriptions = SubscriptionDefinition.Load(InfraTemplate.ApimPath);

        Assert.Equal(subscriptions.Count, template.OfType($"{Service}/subscriptions").Count());
        Assert.Equal(2, subscriptions.Count);
        foreach (var subscription in subscriptions)
        {
            var properties = template.Apim($"{Service}/subscriptions", subscription.Name)["properties"]!;
            Assert.Equal(subscription.DisplayName, properties["displayName"]!.GetValue<string>());
            Assert.Equal(subscription.Scope, properties["scope"]!.GetValue<string>());
            Assert.Equal(subscription.State, properties["state"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Service_IsStandardV2ByDefault_WithTheUserAssignedIdentity()
    {
        var service = template.Sole(Service);
        var identity = template.Sole("Microsoft.ManagedIdentity/userAssignedIdentities")["id"]!.GetValue<string>();

        Assert.Equal("StandardV2", service["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("UserAssigned", service["identity"]!["type"]!.GetValue<string>());
        Assert.Equal([identity], service["identity"]!["userAssignedIdentities"]!.AsObject().Select(p => p.Key));
        Assert.Contains("PremiumV2", template.Compiled["parameters"]!["apimSku"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public void Logging_SendsTheApisTelemetryAndTokenMetricsWithDimensionsToApplicationInsights()
    {
        var insights = template.Sole("Microsoft.Insights/components");
        var workspace = template.Sole("Microsoft.OperationalInsights/workspaces");
        var logger = template.Sole($"{Service}/loggers");
        var diagnostic = template.Apim($"{Service}/apis/diagnostics", "azure-openai/applicationinsights")["properties"]!;

        Assert.Equal("WithDimensions", insights["properties"]!["CustomMetricsOptedInType"]!.GetValue<string>());
        Assert.Equal(workspace["id"]!.GetValue<string>(), insights["properties"]!["WorkspaceResourceId"]!.GetValue<string>());
        Assert.Equal("applicationInsights", logger["properties"]!["loggerType"]!.GetValue<string>());
        Assert.Equal(insights["id"]!.GetValue<string>(), logger["properties"]!["resourceId"]!.GetValue<string>());
        Assert.Equal(logger["id"]!.GetValue<string>(), diagnostic["loggerId"]!.GetValue<string>());
        Assert.True(diagnostic["metrics"]!.GetValue<bool>());
        Assert.Equal(100, diagnostic["sampling"]!["percentage"]!.GetValue<int>());
    }

    private static List<string> NamedValueReferences(string text) =>
        [.. Reference().Matches(text).Select(m => m.Groups["name"].Value).Distinct(StringComparer.Ordinal)];

    private static void Walk(JsonNode? node, HashSet<string> strings, List<JsonNode> nodes)
    {
        switch (node)
        {
            case JsonObject obj:
                nodes.Add(obj);
                foreach (var (_, child) in obj)
                {
                    Walk(child, strings, nodes);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Walk(child, strings, nodes);
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                strings.Add(text);
                break;
        }
    }

    // The gateway's own pattern for {{name}} (Gateway/Apim/NamedValues.cs).
    [GeneratedRegex(@"\{\{(?<name>[A-Za-z0-9._-]+)\}\}")]
    private static partial Regex Reference();
}
