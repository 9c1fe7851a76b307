using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MockOpenAI.Server;
using MockOpenAI.Tests.Support;

namespace MockOpenAI.Tests.Telemetry;

/// <summary>Each inference request to an account is a GenAI SERVER span with the attributes the gateway's CLIENT span has.</summary>
public sealed class MockGenAISpanTests : IAsyncLifetime, IDisposable
{
    // Deployment names no other test uses: spans are seen process-wide.
    private const string Chat = "gpt-4o-genai-span";
    private const string Embedding = "embedding-genai-span";

    private readonly ObservedTime _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly MockOpenAIOptions _options = new() { Account = "test", Region = "swedencentral" };
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;
    private LoopbackAccount _account = null!;

    public MockGenAISpanTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MockTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("gen_ai.request.model") is Chat or Embedding)
                {
                    _spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task InitializeAsync()
    {
        _options.Deployments[Chat] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20" };
        _options.Deployments[Embedding] = new DeploymentOptions { Model = "text-embedding-3-small", Version = "1" };
        _account = await LoopbackAccount.StartAsync(_time, _options);
    }

    public async Task DisposeAsync() => await _account.DisposeAsync();

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Chat_IsAServerSpan_WithOperationProviderModelsUsageAndFinishReasons()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, $"/openai/deployments/{Chat}/chat/completions?api-version=2024-10-21", """{"messages":[{"role":"user","content":"Hello world"}],"max_tokens":5}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var usage = body.RootElement.GetProperty("usage");
        var span = Assert.Single(_spans, s => (string?)s.GetTagItem("gen_ai.response.id") == body.RootElement.GetProperty("id").GetString());
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("chat " + Chat, span.DisplayName);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("azure.ai.openai", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("azure.ai.openai", span.GetTagItem("gen_ai.system"));
        Assert.Equal(body.RootElement.GetProperty("model").GetString(), span.GetTagItem("gen_ai.response.model"));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal([body.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString()!], Assert.IsType<string[]>(span.GetTagItem("gen_ai.response.finish_reasons")));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Null(span.GetTagItem("gen_ai.input.messages"));
    }

    [Fact]
    public async Task Embeddings_IsAnEmbeddingsServerSpan_WithInputTokens()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, $"/openai/deployments/{Embedding}/embeddings?api-version=2024-10-21", """{"input":"hello"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(_spans, s => (string?)s.GetTagItem("gen_ai.request.model") == Embedding);
        Assert.Equal("embeddings " + Embedding, span.DisplayName);
        Assert.Equal("embeddings", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("text-embedding-3-small", span.GetTagItem("gen_ai.response.model"));
        Assert.IsType<int>(span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Null(span.GetTagItem("gen_ai.usage.output_tokens"));
    }
}
