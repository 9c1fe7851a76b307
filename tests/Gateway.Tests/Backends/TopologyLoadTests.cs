using System.Text.Json.Nodes;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Backends;
using Gateway.Tests.Support;

namespace Gateway.Tests.Backends;

public sealed class TopologyLoadTests : IDisposable
{
    private const string Single = """{ "id": "east", "account": "aoai-eastus2", "url": "https://east.example/openai", "protocol": "http" }""";
    private const string Breaker = """
        { "id": "east", "account": "aoai-eastus2", "url": "https://east.example/openai", "protocol": "http",
          "circuitBreaker": { "rules": [ { "name": "r", "failureCondition": { "count": 1, "interval": "PT10S", "statusCodeRanges": [ { "min": 429, "max": 429 } ] }, "tripDuration": "PT1M" } ] } }
        """;

    private const string EmbeddingsBackend = "embeddings-backend";
    private const string ContentSafetyBackend = "content-safety-backend";

    private static readonly NamedValues NoNamedValues = new(new Dictionary<string, string?>());

    private readonly string _folder = Directory.CreateTempSubdirectory("topology-test-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Load_ShippedTopology_HasABackendPerAccountAndDeploymentWithABreaker_AndAPoolPerDeployment()
    {
        var topology = Topology.Load(TestApim.RepoApimPath);

        // One single backend per account and deployment: throttling one deployment never trips the account's others.
        // (The two backends Microsoft's samples name, embeddings-backend and content-safety-backend, are the next test's.)
        var singles = topology.Backends.Where(b => !b.IsPool && b.Id is not (EmbeddingsBackend or ContentSafetyBackend)).ToList();
        var expected = topology.Accounts.SelectMany(a => a.Deployments.Select(d => (a.Name, d.Name))).Order().ToList();
        Assert.Equal(expected, singles.Select(b => (b.Account!, b.Deployment!)).Order().ToList());
        Assert.All(singles, b => Assert.Equal($"{b.Account}-{b.Deployment}", b.Id));
        foreach (var backend in singles)
        {
            var rule = Assert.Single(backend.CircuitBreaker!.Rules!);
            Assert.True(rule.AcceptRetryAfter);
            Assert.Contains(rule.FailureCondition!.StatusCodeRanges!, r => r.Min <= 429 && r.Max >= 429);
            Assert.Contains(rule.FailureCondition.StatusCodeRanges!, r => r.Min <= 500 && r.Max >= 599);
        }

        // One pool per deployment, named <deployment>-pool as the API policy expects, holding exactly its backends.
        foreach (var deployment in topology.Accounts.SelectMany(a => a.Deployments).Select(d => d.Name).Distinct())
        {
            var pool = Assert.Single(topology.Backends, b => b.Id == deployment + "-pool");
            Assert.True(pool.IsPool);
            Assert.Equal(
                singles.Where(b => b.Deployment == deployment).Select(b => b.Id).Order(),
                pool.Pool!.Services!.Select(m => m.BackendId).Order());
        }

        Assert.Equal(10, topology.Backends.Count);
    }

    [Fact]
    public void Load_ShippedTopology_HasTheBackendsMicrosoftsSamplesName_OnTheGatewaysManagedIdentity()
    {
        var topology = Topology.Load(TestApim.RepoApimPath);

        // The semantic cache's embeddings backend: the whole embeddings address of East US 2's deployment.
        var embeddings = Assert.Single(topology.Backends, b => b.Id == EmbeddingsBackend);
        Assert.Equal("aoai-eastus2", embeddings.Account);
        Assert.Equal("text-embedding-3-small", embeddings.Deployment);
        Assert.Equal("https://aoai-eastus2-RESOURCE-TOKEN.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings", embeddings.Url);
        Assert.Equal("/openai/deployments/text-embedding-3-small/embeddings", embeddings.UrlPath);

        // llm-content-safety's backend: the root of the one Content Safety account.
        var account = Assert.Single(topology.ContentSafetyAccounts);
        var contentSafety = Assert.Single(topology.Backends, b => b.Id == ContentSafetyBackend);
        Assert.Equal(account.Name, contentSafety.ContentSafetyAccount);
        Assert.Equal($"https://{account.CustomSubDomain}.cognitiveservices.azure.com", contentSafety.Url);
        Assert.Equal(string.Empty, contentSafety.UrlPath);
        Assert.Equal(account.Region, topology.RegionOf(contentSafety));
        Assert.Equal([contentSafety], topology.SinglesOf(account.Name));

        Assert.All(new[] { embeddings, contentSafety }, b =>
        {
            Assert.Equal("https://cognitiveservices.azure.com", b.Credentials!.ManagedIdentity!.Resource);
            Assert.Null(b.Credentials.ManagedIdentity.ClientId);
            Assert.Null(b.CircuitBreaker);
        });
    }

    [Fact]
    public void Load_NoContentSafetyAccounts_IsAnEmptyList()
    {
        var topology = JsonNode.Parse(File.ReadAllText(Path.Combine(TestApim.RepoApimPath, Topology.FileName)))!.AsObject();
        topology.Remove("contentSafetyAccounts");
        topology["backends"] = new JsonArray(JsonNode.Parse(Single));
        File.WriteAllText(Path.Combine(_folder, Topology.FileName), topology.ToJsonString());

        Assert.Empty(Topology.Load(_folder).ContentSafetyAccounts);
    }

    [Theory]
    [InlineData("""{ "name": "cs-two", "region": "eastus2", "customSubDomain": "cs-two-x" }""", """{ "id": "cs", "contentSafetyAccount": "cs-three", "url": "https://cs.example" }""", "backend 'cs' names unknown content safety account 'cs-three' (contentSafetyAccounts declares contentsafety-eastus2, cs-two)")]
    [InlineData("""{ "name": "cs-two", "region": "eastus2", "customSubDomain": "cs-two-x" }""", """{ "id": "cs", "contentSafetyAccount": "cs-two", "account": "aoai-eastus2", "url": "https://cs.example" }""", "backend 'cs' names content safety account 'cs-two' and an Azure OpenAI account or deployment; a backend is in front of one account")]
    [InlineData("""{ "name": "cs-two", "region": "eastus2", "customSubDomain": "cs-two-x" }""", """{ "id": "p", "type": "Pool", "contentSafetyAccount": "cs-two", "pool": { "services": [ { "id": "east" } ] } }""", "pool 'p' names an account or deployment; its members do")]
    [InlineData("""{ "name": "CONTENTSAFETY-eastus2", "region": "eastus2", "customSubDomain": "cs-two-x" }""", null, "content safety account name 'CONTENTSAFETY-eastus2' is empty or repeated")]
    [InlineData("""{ "name": "aoai-eastus2", "region": "eastus2", "customSubDomain": "cs-two-x" }""", null, "content safety account name 'aoai-eastus2' is empty or repeated (Azure OpenAI and Content Safety accounts share one set of names)")]
    [InlineData("""{ "name": "", "region": "eastus2", "customSubDomain": "cs-two-x" }""", null, "content safety account name '' is empty or repeated")]
    [InlineData("""{ "name": "cs-two", "customSubDomain": "cs-two-x" }""", null, "content safety account 'cs-two' has no region")]
    [InlineData("""{ "name": "cs-two", "region": "eastus2" }""", null, "content safety account 'cs-two' has no customSubDomain (its endpoint is https://<customSubDomain>.cognitiveservices.azure.com)")]
    public void Load_BadContentSafetyAccountsOrBackends_FailNamingTheFile(string account, string? backend, string reason)
    {
        var topology = JsonNode.Parse(File.ReadAllText(Path.Combine(TestApim.RepoApimPath, Topology.FileName)))!;
        topology["contentSafetyAccounts"]!.AsArray().Add(JsonNode.Parse(account));
        topology["backends"] = new JsonArray([.. new[] { Single, backend }.OfType<string>().Select(b => JsonNode.Parse(b))]);
        File.WriteAllText(Path.Combine(_folder, Topology.FileName), topology.ToJsonString());

        var error = Assert.Throws<ApimArtifactException>(() => Topology.Load(_folder));

        Assert.Equal(Path.Combine(_folder, Topology.FileName), error.FilePath);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ArmShapedBackends_ReadsBreakersAndPools()
    {
        Write(
            """
            { "id": "east-chat", "account": "aoai-eastus2", "deployment": "gpt-4o", "url": "https://east.example/openai", "protocol": "http",
              "circuitBreaker": { "rules": [ { "name": "throttled", "failureCondition": { "count": "3", "interval": "PT10S",
                "statusCodeRanges": [ { "min": "429", "max": "429" }, { "min": 500, "max": 599 } ], "errorReasons": [ "Timeout" ] },
                "tripDuration": "PT1M", "acceptRetryAfter": true } ] } }
            """,
            Single.Replace("\"east\"", "\"west\"", StringComparison.Ordinal),
            """
            { "id": "chat-pool", "type": "Pool", "pool": { "services": [
              { "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/backends/east-chat", "priority": 1, "weight": 3 },
              { "id": "west" } ] } }
            """);

        var topology = Topology.Load(_folder);
        var registry = BackendRegistry.Create(topology, new Dictionary<string, BackendOverrideOptions>(), NoNamedValues);

        Assert.True(registry.TryGet("east-chat", out var east));
        var rule = ((Backend)east).BreakerRule!;
        Assert.Equal(3, rule.Count);
        Assert.Equal(TimeSpan.FromSeconds(10), rule.Interval);
        Assert.Equal(TimeSpan.FromMinutes(1), rule.TripDuration);
        Assert.True(rule.AcceptRetryAfter);
        Assert.True(rule.IsFailure(429) && rule.IsFailure(503) && rule.IsFailure("timeout") && !rule.IsFailure(404));
        Assert.Equal("eastus2", east.AzureRegion);
        Assert.True(registry.TryGet("chat-pool", out var entity));
        var pool = Assert.IsType<BackendPool>(entity);
        Assert.Equal("Pool", pool.Type);
        Assert.Equal([("east-chat", 1, 3), ("west", 1, 1)], pool.Members.Select(m => (m.Backend.Id, m.Priority, m.Weight)));
    }

    [Theory]
    [InlineData("Cookie")]
    [InlineData("cookie")]
    public void Load_PoolWithCookieSessionAffinity_IsAccepted_AndThePoolKeepsTheCookieName(string source)
    {
        Write(Single, $$"""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ], "sessionAffinity": { "sessionId": { "source": "{{source}}", "name": "SessionId" } } } }""");

        var registry = BackendRegistry.Create(Topology.Load(_folder), new Dictionary<string, BackendOverrideOptions>(), NoNamedValues);

        Assert.True(registry.TryGet("p", out var entity));
        Assert.Equal("SessionId", Assert.IsType<BackendPool>(entity).SessionAffinity!.CookieName);
    }

    [Theory]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "nowhere" } ] } }""", "pool 'p' names unknown backend 'nowhere'")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "q" } ] } }""", "pool 'p' contains pool 'q'; a pool holds single backends only")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [] } }""", "pool 'p' has no pool.services")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" }, { "id": "EAST" } ] } }""", "pool 'p' lists backend 'EAST' twice")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east", "priority": 101 } ] } }""", "priority of 'east' must be from 0 to 100, not 101")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east", "weight": -1 } ] } }""", "weight of 'east' must be from 0 to 100, not -1")]
    [InlineData("""{ "id": "p", "type": "Pool", "account": "aoai-eastus2", "pool": { "services": [ { "id": "east" } ] } }""", "pool 'p' names an account or deployment")]
    [InlineData("""{ "id": "p", "type": "Ring", "url": "https://p.example" }""", "backend 'p' has type 'Ring'; the types are Single and Pool")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ], "sessionAffinity": { "sessionId": { "source": "Header", "name": "SessionId" } } } }""", "pool 'p': sessionAffinity.sessionId.source is 'Header'; the only source is Cookie")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ], "sessionAffinity": { "sessionId": { "name": "SessionId" } } } }""", "pool 'p': sessionAffinity.sessionId.source is ''; the only source is Cookie")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ], "sessionAffinity": { } } }""", "pool 'p': sessionAffinity has no sessionId")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ], "sessionAffinity": { "sessionId": { "source": "Cookie", "name": "my session" } } } }""", "pool 'p': sessionAffinity.sessionId.name 'my session' is not a cookie name")]
    [InlineData("""{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ], "sessionAffinity": { "sessionId": { "source": "Cookie" } } } }""", "pool 'p': sessionAffinity.sessionId.name '' is not a cookie name")]
    public void Load_BadPools_FailNamingTheFile(string backend, string reason)
    {
        Write(Single, backend, """{ "id": "q", "type": "pool", "pool": { "services": [ { "id": "east" } ] } }""");

        var error = Assert.Throws<ApimArtifactException>(() => Topology.Load(_folder));

        Assert.Equal(Path.Combine(_folder, Topology.FileName), error.FilePath);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rules", """[ RULE, RULE ]""", "circuitBreaker has 2 rules; API Management allows one")]
    [InlineData("rules", """[]""", "circuitBreaker has no rules")]
    [InlineData("interval", "\"10 seconds\"", "interval '10 seconds' is not a positive ISO 8601 duration")]
    [InlineData("interval", "\"-PT10S\"", "interval '-PT10S' is not a positive ISO 8601 duration")]
    [InlineData("tripDuration", "\"PT0S\"", "tripDuration 'PT0S' is not a positive ISO 8601 duration")]
    [InlineData("count", "0", "count must be at least 1, not 0")]
    [InlineData("percentage", "101", "failureCondition needs exactly one of count and percentage")]
    [InlineData("count", "null", "failureCondition needs exactly one of count and percentage")]
    [InlineData("statusCodeRanges", """[ { "min": 100, "max": 199 } ]""", "status code range 100-199 must lie within 200-599")]
    [InlineData("statusCodeRanges", """[ { "min": 599, "max": 500 } ]""", "status code range 599-500 must lie within 200-599 with min no greater than max")]
    [InlineData("statusCodeRanges", "null", "has neither statusCodeRanges nor errorReasons")]
    [InlineData("errorReasons", """[ "" ]""", "an error reason is empty or longer than 200 characters")]
    public void Load_BadCircuitBreakers_FailNamingTheFile(string member, string value, string reason)
    {
        var node = JsonNode.Parse(Breaker)!;
        var rule = node["circuitBreaker"]!["rules"]![0]!;
        switch (member)
        {
            case "rules":
                node["circuitBreaker"]!["rules"] = JsonNode.Parse(value.Replace("RULE", rule.ToJsonString(), StringComparison.Ordinal));
                break;
            case "tripDuration":
                rule[member] = JsonNode.Parse(value);
                break;
            default:
                rule["failureCondition"]![member] = JsonNode.Parse(value);
                break;
        }

        Write(node.ToJsonString());

        var error = Assert.Throws<ApimArtifactException>(() => Topology.Load(_folder));

        Assert.Equal(Path.Combine(_folder, Topology.FileName), error.FilePath);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "id": "e", "account": "aoai-eastus2", "deployment": "gpt-5", "url": "https://e.example/openai" }""", "backend 'e' names deployment 'gpt-5', which account 'aoai-eastus2' does not have")]
    [InlineData("""{ "id": "e", "deployment": "gpt-4o", "url": "https://e.example/openai" }""", "backend 'e' names deployment 'gpt-4o' but no account")]
    [InlineData("""{ "id": "e", "account": "aoai-eastus2", "url": "ftp://e.example/openai" }""", "backend 'e' has no absolute http or https url")]
    [InlineData("""{ "id": "e", "url": "https://e.example", "pool": { "services": [ { "id": "east" } ] } }""", "backend 'e' has a pool but is not of type Pool")]
    public void Load_BadSingleBackends_FailNamingTheFile(string backend, string reason)
    {
        Write(Single, backend);

        var error = Assert.Throws<ApimArtifactException>(() => Topology.Load(_folder));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_LocalUrlForAPool_IsRefused()
    {
        Write(Single, """{ "id": "p", "type": "Pool", "pool": { "services": [ { "id": "east" } ] } }""");
        var overrides = new Dictionary<string, BackendOverrideOptions> { ["p"] = new() { Url = "http://127.0.0.1:9" } };

        var error = Assert.Throws<ApimArtifactException>(() => BackendRegistry.Create(Topology.Load(_folder), overrides, NoNamedValues));

        Assert.Contains("Apim:Backends:p names a pool, which has no URL of its own", error.Message, StringComparison.Ordinal);
    }

    private void Write(params string[] backends)
    {
        var topology = JsonNode.Parse(File.ReadAllText(Path.Combine(TestApim.RepoApimPath, Topology.FileName)))!;
        topology["backends"] = new JsonArray([.. backends.Select(b => JsonNode.Parse(b))]);
        File.WriteAllText(Path.Combine(_folder, Topology.FileName), topology.ToJsonString());
    }
}
