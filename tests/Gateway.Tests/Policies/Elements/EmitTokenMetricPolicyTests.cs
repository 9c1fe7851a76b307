using System.Diagnostics.Metrics;
using System.Net;
using Gateway.Apim.Model;
using Gateway.Policies;
using Gateway.Telemetry;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Gateway.Tests.Policies.Elements;

public sealed class EmitTokenMetricPolicyTests : IAsyncLifetime, IDisposable
{
    private const string ProductKey = "product-key-team-a";

    private readonly TestApim _apim = new();
    private readonly List<GatewayFactory> _factories = [];
    private RecordingBackend _backend = null!;

    public EmitTokenMetricPolicyTests()
    {
        // A subscription of product ai-starter owned by alice, so Product ID and User ID have values.
        File.WriteAllText(Path.Combine(_apim.Path, SubscriptionDefinition.FileName), """
            {
              "subscriptions": [
                { "name": "chat-app", "scope": "/apis/azure-openai", "state": "active" },
                { "name": "team-a", "scope": "/products/ai-starter", "state": "active", "ownerId": "alice" }
              ],
              "users": [ { "id": "alice", "email": "alice@contoso.com", "firstName": "Alice", "lastName": "Smith" } ]
            }
            """);
        var product = Path.Combine(_apim.Path, ProductDefinition.Folder, "ai-starter");
        Directory.CreateDirectory(product);
        File.WriteAllText(Path.Combine(product, ProductDefinition.FileName), """{ "id": "ai-starter", "displayName": "AI Starter", "apis": [ "azure-openai" ] }""");
    }

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }

        _apim.Dispose();
    }

    [Theory]
    [InlineData("azure-openai-emit-token-metric")]
    [InlineData("llm-emit-token-metric")]
    [Covers("azure-openai-emit-token-metric", "namespace")]
    [Covers("llm-emit-token-metric", "namespace")]
    public async Task EmitTokenMetric_PlainCalls_CountTheReportedTokensWithDefaultAndCustomDimensions(string element)
    {
        _backend.Answer = ModelAnswers.Completion(9, 11);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} namespace="openai">
                <dimension name="API ID" />
                <dimension name="Operation ID" />
                <dimension name="Product ID" />
                <dimension name="User ID" />
                <dimension name="Subscription ID" />
                <dimension name="Location" />
                <dimension name="Gateway ID" />
                <dimension name="@("te" + "am")" value="@(context.Request.Headers.GetValueOrDefault("x-team", "none"))" />
              </{{element}}>
            </inbound>
            """);
        using var prompt = Collector(factory, PolicyMetrics.PromptTokensName);
        using var completion = Collector(factory, PolicyMetrics.CompletionTokensName);
        using var total = Collector(factory, PolicyMetrics.TotalTokensName);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "{}");
        using var second = await SendAsync(client, "{}");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(18, prompt.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(22, completion.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(40, total.GetMeasurementSnapshot().EvaluateAsCounter());
        var tags = total.GetMeasurementSnapshot()[0].Tags;
        Assert.Equal("openai", tags["namespace"]);
        Assert.Equal("azure-openai", tags["API ID"]);
        Assert.Equal("ChatCompletions_Create", tags["Operation ID"]);
        Assert.Equal("ai-starter", tags["Product ID"]);
        Assert.Equal("alice", tags["User ID"]);
        Assert.Equal("team-a", tags["Subscription ID"]);
        Assert.Equal("local", tags["Location"]);
        Assert.Equal("managed", tags["Gateway ID"]);
        Assert.Equal("search", tags["team"]);
    }

    [Theory]
    [InlineData("azure-openai-emit-token-metric", true, 9, 5)]
    [InlineData("llm-emit-token-metric", true, 9, 5)]
    [InlineData("azure-openai-emit-token-metric", false, 9, 2)]
    [InlineData("llm-emit-token-metric", false, 9, 2)]
    [Covers("azure-openai-emit-token-metric", "namespace")]
    [Covers("llm-emit-token-metric", "namespace")]
    public async Task EmitTokenMetric_StreamedCall_CountsTheUsageChunkOrTheEstimatedPromptAndStreamedText(string element, bool includeUsage, int promptTokens, int completionTokens)
    {
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Answer = ModelAnswers.Stream(["Hello", " world"], includeUsage ? (9, 5) : null, rest.Task);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} namespace="streams">
                <dimension name="API ID" />
              </{{element}}>
            </inbound>
            <backend>
              <forward-request buffer-response="false" />
            </backend>
            """);
        using var prompt = Collector(factory, PolicyMetrics.PromptTokensName);
        using var completion = Collector(factory, PolicyMetrics.CompletionTokensName);
        using var total = Collector(factory, PolicyMetrics.TotalTokensName);
        using var client = factory.CreateClient();

        using var streamed = await SendAsync(client, ModelAnswers.HelloWorldStream(includeUsage), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
        Assert.Contains("\"role\":\"assistant\"", await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.Empty(total.GetMeasurementSnapshot());
        rest.SetResult();
        await reader.ReadToEndAsync().WaitAsync(TestTimeouts.Request);
        await total.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);

        Assert.Equal(promptTokens, prompt.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(completionTokens, completion.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(promptTokens + completionTokens, total.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal("streams", total.GetMeasurementSnapshot()[0].Tags["namespace"]);
        Assert.Equal("azure-openai", total.GetMeasurementSnapshot()[0].Tags["API ID"]);
    }

    [Theory]
    [InlineData("<set-backend-service backend-id=\"aoai-eastus2\" />", 500)]
    [InlineData("<return-response />", 200)]
    [Covers("llm-emit-token-metric", "namespace")]
    public async Task EmitTokenMetric_NoUsageReported_EmitsNothing(string then, int status)
    {
        _backend.Statuses.Enqueue(500);
        using var factory = Start($$"""
            <inbound>
              <llm-emit-token-metric namespace="openai"><dimension name="API ID" /></llm-emit-token-metric>
              {{then}}
            </inbound>
            """);
        using var total = Collector(factory, PolicyMetrics.TotalTokensName);
        using var client = factory.CreateClient();

        using var response = await SendAsync(client, ModelAnswers.HelloWorldChat);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Empty(total.GetMeasurementSnapshot());
    }

    [Theory]
    [InlineData("""<llm-emit-token-metric><dimension name="team" /></llm-emit-token-metric>""", "dimension 'team' needs a value")]
    [InlineData("""<azure-openai-emit-token-metric><dimension name="@("API ID")" /></azure-openai-emit-token-metric>""", "needs a value")]
    [InlineData("""<llm-emit-token-metric namespace="n" />""", "<llm-emit-token-metric> takes 1 to 10 dimensions")]
    [InlineData("""<azure-openai-emit-token-metric value="2"><dimension name="API ID" /></azure-openai-emit-token-metric>""", "unknown attribute 'value' on <azure-openai-emit-token-metric>")]
    [InlineData("""<azure-openai-emit-token-metric namespace="@("n")"><dimension name="API ID" /></azure-openai-emit-token-metric>""", "attribute 'namespace' of <azure-openai-emit-token-metric> does not accept policy expressions")]
    public void Load_InvalidEmitTokenMetric_Fails(string element, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($"<inbound>{element}</inbound>"));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("azure-openai-emit-token-metric")]
    [InlineData("llm-emit-token-metric")]
    public void Load_ElevenDimensionsOrOutsideInbound_Fails(string element)
    {
        var dimensions = string.Concat(Enumerable.Range(1, 11).Select(i => $"""<dimension name="d{i}" value="v" />"""));

        var tooMany = Assert.Throws<PolicyLoadException>(() => Load($"<inbound><{element}>{dimensions}</{element}></inbound>"));
        var outbound = Assert.Throws<PolicyLoadException>(() => Load($"""<outbound><{element}><dimension name="API ID" /></{element}></outbound>"""));

        Assert.Contains($"<{element}> takes 1 to 10 dimensions", Assert.Single(tooMany.Problems), StringComparison.Ordinal);
        Assert.Contains($"<{element}> is not allowed in the outbound section (allowed in: inbound)", Assert.Single(outbound.Problems), StringComparison.Ordinal);
    }

    private static PolicyDocument Load(string sections) =>
        PolicyLoader.Load($"<policies>{sections}</policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>()));

    private static MetricCollector<long> Collector(WebApplicationFactory<Program> factory, string name) =>
        new(factory.Services.GetRequiredService<IMeterFactory>(), PolicyMetrics.MeterName, name);

    private WebApplicationFactory<Program> Start(string sections)
    {
        File.WriteAllText(_apim.PolicyPath, $"<policies>{sections}</policies>");
        var factory = new GatewayFactory(_apim, _backend.Url);
        _factories.Add(factory);
        return factory.WithWebHostBuilder(b => b.UseSetting("Apim:Subscriptions:team-a:PrimaryKey", ProductKey));
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string body, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        client.PostChatAsync(body: body, key: ProductKey, headers: [("x-team", "search")], completion: completion);
}
