using System.Text.Json;
using System.Text.Json.Nodes;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// apim/ has no products, users, global or operation policies today, and two fragments more than apim/ are added here; infra/modules/apim.bicep deploys them
/// when main.bicep lists them. This fixture proves it: an apim folder holding every optional kind (examples/cached-priority
/// with its fragments, a product with a policy, a user in a group, a product subscription, a global and an operation
/// policy), a small template that loads each file the way main.bicep does and hands them to the module, compiled
/// without a warning and expanded offline.
/// </summary>
public sealed class EveryArtefactKindFixture : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("infra-module-").FullName;

    /// <summary>The pool given a session affinity (the shipped topology's pools have none).</summary>
    public const string AffinityPool = "gpt-4o-pool";

    /// <summary>The sessionAffinity that pool gets, as topology.json writes it.</summary>
    public const string SessionAffinity = """{ "sessionId": { "source": "Cookie", "name": "SessionId" } }""";

    /// <summary>The single backend given credentials (the shipped topology's have none).</summary>
    public const string CredentialsBackend = "aoai-japaneast-gpt-4o";

    /// <summary>The credentials it gets, as AI-Gateway's labs write them: a managed identity, plus a header from a named value.</summary>
    public const string Credentials = """{ "managedIdentity": { "resource": "https://cognitiveservices.azure.com", "clientId": "{{managed-identity-client-id}}" }, "header": { "x-backend-key": [ "{{lb-state-key}}" ] }, "query": { "tenant": [ "contoso" ] } }""";

    public string ApimPath => Path.Combine(_root, "apim");

    public IReadOnlyList<BicepDiagnostic> BuildDiagnostics { get; private set; } = [];

    public TemplateSnapshot Snapshot { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Copy(InfraTemplate.ApimPath, ApimPath);
        Copy(Path.Combine(InfraTemplate.RepoRoot, "examples", "cached-priority"), ApimPath);
        EditBackend(AffinityPool, pool => pool["pool"]!["sessionAffinity"] = JsonNode.Parse(SessionAffinity));
        EditBackend(CredentialsBackend, backend => backend["credentials"] = JsonNode.Parse(Credentials));
        Write("global-policy.xml", "<policies>\n  <inbound />\n  <backend>\n    <forward-request />\n  </backend>\n  <outbound />\n  <on-error />\n</policies>\n");
        Write("apis/azure-openai/operations/Embeddings_Create.xml", "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"x-operation\" exists-action=\"override\">\n      <value>embeddings</value>\n    </set-header>\n  </inbound>\n</policies>\n");
        Write("products/starter/product.json", """{ "id": "starter", "displayName": "Starter", "description": "One subscription, a token budget", "apis": [ "azure-openai" ], "groups": [ "developers" ], "subscriptionsLimit": 1, "policy": "policy.xml" }""");
        Write("products/starter/policy.xml", "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"x-product\" exists-action=\"override\">\n      <value>starter</value>\n    </set-header>\n  </inbound>\n</policies>\n");
        Write("subscriptions.json", """
            {
              "subscriptions": [
                { "name": "chat-app", "displayName": "Chat application", "scope": "/apis/azure-openai", "state": "active" },
                { "name": "starter-team", "displayName": "Starter team", "scope": "/products/starter", "state": "active", "ownerId": "alice" }
              ],
              "users": [ { "id": "alice", "email": "alice@example.com", "firstName": "Alice", "lastName": "Example", "groups": [ "developers" ] } ]
            }
            """);

        var template = Path.Combine(_root, "every-kind.bicep");
        await File.WriteAllTextAsync(template, WrapperTemplate());
        var build = await BicepCli.RunAsync(_root, "build", template);
        BuildDiagnostics = BicepDiagnostic.Parse(build.Errors);
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("the module test template did not compile:" + Environment.NewLine + build.Errors);
        }

        Snapshot = await TemplateSnapshot.CreateAsync(_root, "every-kind.json", [], resourceGroup: "rg-module-test");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>What main.bicep would say for this folder: each file named once, loaded as it is.</summary>
    private string WrapperTemplate()
    {
        string Load(string file) => $"loadTextContent('apim/{file}')";
        string LoadJson(string file) => $"loadJsonContent('apim/{file}')";
        var module = Path.GetRelativePath(_root, Path.Combine(InfraTemplate.InfraPath, "modules", "apim.bicep")).Replace('\\', '/');
        var text = new List<string>();
        text.Add($"module apim '{module}' = {{");
        text.Add("  params: {");
        text.Add("    name: 'apim-every-kind'");
        text.Add("    location: resourceGroup().location");
        text.Add("    tags: {}");
        text.Add("    sku: 'BasicV2'");
        text.Add("    skuCapacity: 1");
        text.Add("    publisherEmail: 'apim-publisher@example.com'");
        text.Add("    publisherName: 'Module test'");
        text.Add("    identityName: 'id-module-test'");
        text.Add("    applicationInsightsName: 'appi-module-test'");
        text.Add($"    topology: {LoadJson("topology.json")}");
        text.Add($"    namedValues: {LoadJson("named-values.json")}");
        text.Add("    deploymentNamedValues: { 'managed-identity-client-id': '00000000-0000-0000-0000-0000000000c1' }");
        text.Add("    secretNamedValues: {}");
        text.Add($"    subscriptions: {LoadJson("subscriptions.json")}");
        text.Add($"    globalPolicy: {Load("global-policy.xml")}");
        text.Add("    fragments: [");
        foreach (var file in Directory.GetFiles(Path.Combine(ApimPath, "fragments")).Order(StringComparer.Ordinal))
        {
            text.Add($"      {{ id: '{Path.GetFileNameWithoutExtension(file)}', xml: {Load("fragments/" + Path.GetFileName(file))} }}");
        }

        text.Add("    ]");
        text.Add("    apis: [");
        text.Add("      {");
        text.Add($"        entity: {LoadJson("apis/azure-openai/api.json")}");
        text.Add($"        definition: {Load("apis/azure-openai/openapi.json")}");
        text.Add($"        policy: {Load("apis/azure-openai/policy.xml")}");
        text.Add($"        operationPolicies: [ {{ operationId: 'Embeddings_Create', xml: {Load("apis/azure-openai/operations/Embeddings_Create.xml")} }} ]");
        text.Add("      }");
        text.Add("    ]");
        text.Add($"    products: [ {{ entity: {LoadJson("products/starter/product.json")}, policy: {Load("products/starter/policy.xml")} }} ]");
        text.Add("  }");
        text.Add("}");
        return string.Join(Environment.NewLine, text) + Environment.NewLine;
    }

    private void EditBackend(string id, Action<JsonNode> edit)
    {
        var path = Path.Combine(ApimPath, Gateway.Apim.Model.Topology.FileName);
        var topology = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
        edit(topology["backends"]!.AsArray().Single(b => b!["id"]!.GetValue<string>() == id)!);
        File.WriteAllText(path, topology.ToJsonString());
    }

    private void Write(string relativePath, string text)
    {
        var path = Path.Combine(ApimPath, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}

/// <summary>The API Management module with every kind of artefact apim/ may hold.</summary>
public sealed class ApimModuleTests(EveryArtefactKindFixture folder) : IClassFixture<EveryArtefactKindFixture>
{
    private const string Service = "Microsoft.ApiManagement/service";
    private static readonly string[] PolicyTypes = ["policyFragments", "policies", "apis/policies", "apis/operations/policies", "products/policies"];

    [Fact]
    public void Module_GivenEveryKindOfArtefact_CompilesWithoutWarnings()
    {
        Assert.True(folder.BuildDiagnostics.Count == 0, string.Join(Environment.NewLine, folder.BuildDiagnostics));
    }

    [Fact]
    public void Module_DeploysEveryFile_FragmentsGlobalProductAndOperationPoliciesCharacterForCharacter()
    {
        var (artefacts, unknown) = ApimArtefact.Read(folder.ApimPath);
        var missing = ApimArtefact.Missing(folder.ApimPath, folder.Snapshot);

        Assert.Empty(unknown);
        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));

        // The API policy, the definition, its 6 fragments, 2 more fragments, the global, operation and product policies:
        // 13 texts as written.
        Assert.Equal(13, artefacts.Count(a => a.Value is not null));
        Assert.All(
            PolicyTypes,
            type => Assert.All(folder.Snapshot.OfType($"{Service}/{type}"), r => Assert.Equal("rawxml", r["properties"]!["format"]!.GetValue<string>())));
    }

    [Fact]
    public void Module_ProductSubscriptionAndUser_AreLinkedAsInSubscriptionsJson()
    {
        var subscription = folder.Snapshot.Apim($"{Service}/subscriptions", "starter-team")["properties"]!;
        var product = folder.Snapshot.Apim($"{Service}/products", "starter")["properties"]!;
        var user = folder.Snapshot.Apim($"{Service}/users", "alice")["properties"]!;

        Assert.Equal("/products/starter", subscription["scope"]!.GetValue<string>());
        Assert.Equal("/users/alice", subscription["ownerId"]!.GetValue<string>());
        Assert.Equal(1, product["subscriptionsLimit"]!.GetValue<int>());
        Assert.Equal("published", product["state"]!.GetValue<string>());
        Assert.Equal("alice@example.com", user["email"]!.GetValue<string>());
        Assert.NotNull(folder.Snapshot.FindApim($"{Service}/products/groups", "starter/developers"));
        Assert.NotNull(folder.Snapshot.FindApim($"{Service}/groups/users", "developers/alice"));
        Assert.Null(folder.Snapshot.Apim($"{Service}/subscriptions", "chat-app")["properties"]!["ownerId"]);
    }

    [Fact]
    public void Module_PoolWithSessionAffinity_DeploysItExactlyAsWritten_AndOtherPoolsWithout()
    {
        var written = Gateway.Apim.Model.Topology.Load(folder.ApimPath).Backends.Where(b => b.IsPool).ToList();
        var deployed = folder.Snapshot.Apim($"{Service}/backends", EveryArtefactKindFixture.AffinityPool);
        var other = folder.Snapshot.Apim($"{Service}/backends", "text-embedding-3-small-pool");

        Assert.Contains(written, b => b.Id == EveryArtefactKindFixture.AffinityPool && b.Pool!.SessionAffinity!.SessionId!.Name == "SessionId");
        Assert.Equal("2024-10-01-preview", deployed["apiVersion"]!.GetValue<string>());
        var affinity = deployed["properties"]!["pool"]!["sessionAffinity"];
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(EveryArtefactKindFixture.SessionAffinity), affinity), $"deployed sessionAffinity {affinity?.ToJsonString()}");
        Assert.Null(other["properties"]!["pool"]!["sessionAffinity"]);
    }

    [Fact]
    public void Module_BackendWithCredentials_DeploysThemExactlyAsWritten_NamedValuesLeftForApiManagement_AndOthersWithout()
    {
        var written = Gateway.Apim.Model.Topology.Load(folder.ApimPath).Backends.Single(b => b.Id == EveryArtefactKindFixture.CredentialsBackend);
        var deployed = folder.Snapshot.Apim($"{Service}/backends", EveryArtefactKindFixture.CredentialsBackend)["properties"]!["credentials"];
        var other = folder.Snapshot.Apim($"{Service}/backends", "aoai-eastus2-gpt-4o");

        Assert.Equal("https://cognitiveservices.azure.com", written.Credentials!.ManagedIdentity!.Resource);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(EveryArtefactKindFixture.Credentials), deployed), $"deployed credentials {deployed?.ToJsonString()}");
        Assert.Null(other["properties"]!["credentials"]);
    }

    [Fact]
    public void Module_NamedValues_CoverTheFragmentsNames()
    {
        foreach (var name in new[] { "lb-priorities", "lb-state-key" })
        {
            Assert.NotNull(folder.Snapshot.Apim($"{Service}/namedValues", name)["properties"]!["value"]);
        }

        Assert.Equal("00000000-0000-0000-0000-0000000000c1", folder.Snapshot.Apim($"{Service}/namedValues", "managed-identity-client-id")["properties"]!["value"]!.GetValue<string>());
    }
}
