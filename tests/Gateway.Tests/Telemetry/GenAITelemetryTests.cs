using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Gateway.Pipeline;
using Gateway.Telemetry;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// Each try of forward-request on a model operation is a GenAI CLIENT span (OpenTelemetry's conventions, as the Aspire
/// dashboard's GenAI view reads them) with the try's measurements on the gateway's GenAI meter.
/// </summary>
public sealed class GenAITelemetryTests : IAsyncLifetime, IDisposable
{
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private const string Throttled = "\"count\": 1, \"interval\": \"PT10S\", \"statusCodeRanges\": [ { \"min\": 429, \"max\": 429 } ]";

    /// <summary>Reads the body in inbound, so that it is buffered (content capture reads only a buffered body).</summary>
    private const string ReadBody = """<set-variable name="body" value="@(context.Request.Body.As<string>(preserveContent: true))" />""";

    private static readonly string StreamedAnswer = string.Concat(
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-11-20\",\"choices\":[],\"prompt_filter_results\":[]}\n\n",
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-11-20\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n",
        "data: [DONE]\n\n");

    private readonly ActivityTraceId _traceId = ActivityTraceId.CreateRandom();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;
    private RecordingBackend _backend = null!;

    public GenAITelemetryTests()
    {
        _listener = new ActivityListener
        {
            // The policy spans too: a try's span is a child of the backend section's.
            ShouldListenTo = source => source.Name is GenAITelemetry.SourceName or GatewayTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == _traceId && activity.Source.Name == GenAITelemetry.SourceName)
                {
                    _spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Chat_OneTry_IsAClientSpanWithTheConventionsAttributes_AndNoContentOrSecret()
    {
        _backend.Answer = ModelAnswers.Completion(9, 2);
        using var apim = new TestApim(TestPolicy.With(TestPolicy.ToEastUs2 + ReadBody));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await factory.CreateClient().PostChatAsync(body: ModelAnswers.HelloWorldChat, headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(_spans);
        Assert.Equal("chat gpt-4o", span.DisplayName);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("policy backend", span.Parent?.OperationName);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("azure.ai.openai", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("azure.ai.openai", span.GetTagItem("gen_ai.system"));
        Assert.Equal("gpt-4o", span.GetTagItem("gen_ai.request.model"));
        Assert.Equal("gpt-4o", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal("chatcmpl-1", span.GetTagItem("gen_ai.response.id"));
        Assert.Equal(["stop"], Assert.IsType<string[]>(span.GetTagItem("gen_ai.response.finish_reasons")));
        Assert.Equal(9L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(2L, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(new Uri(_backend.Url).Host, span.GetTagItem("server.address"));
        Assert.Equal(new Uri(_backend.Url).Port, span.GetTagItem("server.port"));
        Assert.Equal("aoai-eastus2-gpt-4o", span.GetTagItem("apim.backend.id"));
        Assert.Equal(1, span.GetTagItem("apim.forward.try"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Null(span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Null(span.GetTagItem("gen_ai.input.messages"));
        Assert.Null(span.GetTagItem("gen_ai.output.messages"));
        AssertNoSecret(span, GatewayFactory.PrimaryKey, "Hello world");
    }

    [Fact]
    public async Task StreamedChat_ReadsUsageModelAndFinishFromTheStream_AndRecordsTimeToFirstChunk()
    {
        _backend.Answer = async http =>
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync(StreamedAnswer, http.RequestAborted);
        };
        using var apim = new TestApim(TestPolicy.With(TestPolicy.ToEastUs2, TestPolicy.ForwardUnbuffered));
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var metrics = new GenAIMeasurements(factory.Services);

        using var response = await factory.CreateClient().PostChatAsync(body: ModelAnswers.HelloWorldStream(includeUsage: true), headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var span = Assert.Single(_spans);
        Assert.Equal("chat gpt-4o", span.DisplayName);
        Assert.Equal("gpt-4o-2024-11-20", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal("chatcmpl-9", span.GetTagItem("gen_ai.response.id"));
        Assert.Equal(["stop"], Assert.IsType<string[]>(span.GetTagItem("gen_ai.response.finish_reasons")));
        Assert.Equal(9L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(2L, span.GetTagItem("gen_ai.usage.output_tokens"));

        var firstChunk = Assert.Single(metrics.Of(GenAIMetrics.TimeToFirstChunkName));
        Assert.InRange(firstChunk.Value, 0, TestTimeouts.Request.TotalSeconds);
        Assert.Equal("chat", firstChunk.Tags["gen_ai.operation.name"]);
        Assert.Equal("gpt-4o-2024-11-20", firstChunk.Tags["gen_ai.response.model"]);
        Assert.Equal(
            [("input", 9.0), ("output", 2.0)],
            metrics.Of(GenAIMetrics.TokenUsageName).Select(m => ((string)m.Tags["gen_ai.token.type"]!, m.Value)).Order());
        Assert.Single(metrics.Of(GenAIMetrics.OperationDurationName));
        Assert.Equal(
            [("input", 9.0), ("output", 2.0)],
            metrics.Of(GenAIMetrics.SubscriptionTokensName).Select(m => ((string)m.Tags["gen_ai.token.type"]!, m.Value)).Order());
        Assert.All(metrics.Of(GenAIMetrics.SubscriptionTokensName), m => Assert.Equal("chat-app", m.Tags["apim.subscription.name"]));
    }

    [Fact]
    public async Task Chat_NotStreamed_RecordsNoTimeToFirstChunk()
    {
        _backend.Answer = ModelAnswers.Completion(9, 2);
        using var apim = new TestApim(TestPolicy.With(TestPolicy.ToEastUs2, TestPolicy.ForwardUnbuffered));
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var metrics = new GenAIMeasurements(factory.Services);

        using var response = await factory.CreateClient().PostChatAsync(body: ModelAnswers.HelloWorldChat, headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(_spans);
        Assert.Equal(9L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Empty(metrics.Of(GenAIMetrics.TimeToFirstChunkName));
        Assert.Single(metrics.Of(GenAIMetrics.OperationDurationName));
    }

    [Fact]
    public async Task Embeddings_IsAnEmbeddingsSpan_WithInputTokensOnly()
    {
        _backend.Answer = async http =>
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}""", http.RequestAborted);
        };
        using var apim = new TestApim(TestPolicy.With("""<set-backend-service backend-id="aoai-eastus2-text-embedding-3-small" />"""));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await factory.CreateClient().PostChatAsync(EmbeddingsPath, """{"input":"hello"}""", headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(_spans);
        Assert.Equal("embeddings text-embedding-3-small", span.DisplayName);
        Assert.Equal("embeddings", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("text-embedding-3-small", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal(3L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Null(span.GetTagItem("gen_ai.usage.output_tokens"));
    }

    [Fact]
    public async Task FailedOver_TwoTries_TheFirstSays429AndItsRetryAfter_TheSecondAnswers()
    {
        await using var members = await MemberBackends.StartAsync();
        members.Scripts["p1"] = new([(429, "7")]);
        using var apim = new TestApim(TestPolicy.With(
            """<set-backend-service backend-id="pool" />""",
            """
            <retry condition="@(context.Response.StatusCode == 429)" count="2" interval="0">
              <forward-request buffer-request-body="true" />
            </retry>
            """));
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", members.Url + "/p1/openai", Throttled),
            TestTopology.Single("p2", members.Url + "/p2/openai", Throttled),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 2, 1)));
        using var factory = new GatewayFactory(apim, members.Url, time: new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero)));
        using var metrics = new GenAIMeasurements(factory.Services);

        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage, headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tries = _spans.OrderBy(s => (int)s.GetTagItem("apim.forward.try")!).ToList();
        Assert.Equal(2, tries.Count);
        var (first, second) = (tries[0], tries[1]);
        Assert.Equal("p1", first.GetTagItem("apim.backend.id"));
        Assert.Equal(429, first.GetTagItem("http.response.status_code"));
        Assert.Equal("429", first.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, first.Status);
        var failed = Assert.Single(first.Events);
        Assert.Equal("apim.forward.try_failed", failed.Name);
        Assert.Equal(7.0, failed.Tags.Single(t => t.Key == "apim.backend.retry_after").Value);
        Assert.Equal("p2", second.GetTagItem("apim.backend.id"));
        Assert.Equal(2, second.GetTagItem("apim.forward.try"));
        Assert.Null(second.GetTagItem("error.type"));
        Assert.Empty(second.Events);
        Assert.True(first.StartTimeUtc + first.Duration <= second.StartTimeUtc + TimeSpan.FromMilliseconds(1), "the first try ends when the second starts");

        Assert.Equal([("p1", "429"), ("p2", "200")], metrics.Of(GenAIMetrics.BackendRequestsName).Select(m => ((string)m.Tags["apim.backend.id"]!, (string)m.Tags["apim.forward.outcome"]!)).Order());
        Assert.Equal("p2", Assert.Single(metrics.Of(GenAIMetrics.RetriesName)).Tags["apim.backend.id"]);
        var opened = Assert.Single(metrics.Of(GenAIMetrics.BreakerChangesName));
        Assert.Equal(("p1", "open"), ((string)opened.Tags["apim.backend.id"]!, (string)opened.Tags["apim.backend.circuit_breaker.state"]!));
        var durations = metrics.Of(GenAIMetrics.OperationDurationName);
        var failedDuration = Assert.Single(durations, m => m.Tags.ContainsKey("error.type"));
        Assert.Equal("429", failedDuration.Tags["error.type"]);

        // The requested model is a dimension only once a backend answered it: a made-up model cannot multiply the series.
        Assert.False(failedDuration.Tags.ContainsKey("gen_ai.request.model"));
        Assert.Equal("gpt-4o", Assert.Single(durations, m => !m.Tags.ContainsKey("error.type")).Tags["gen_ai.request.model"]);
    }

    [Fact]
    public async Task PoolExhausted_TheTryThatFindsEveryBreakerTripped_IsAFailedSpanWithTheWait()
    {
        await using var members = await MemberBackends.StartAsync();
        members.Otherwise["p1"] = 429;
        members.Otherwise["p2"] = 429;
        using var apim = new TestApim(TestPolicy.With(
            """<set-backend-service backend-id="pool" />""",
            """
            <retry condition="@(context.Response.StatusCode == 429)" count="3" interval="0">
              <forward-request buffer-request-body="true" />
            </retry>
            """));
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", members.Url + "/p1/openai", Throttled),
            TestTopology.Single("p2", members.Url + "/p2/openai", Throttled),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 2, 1)));
        using var factory = new GatewayFactory(apim, members.Url, time: new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero)));

        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage, headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var tries = _spans.OrderBy(s => (int)s.GetTagItem("apim.forward.try")!).ToList();
        Assert.Equal(["429", "429", "BackendUnavailable"], tries.Select(s => (string)s.GetTagItem("error.type")!));
        var nowhere = tries[2];
        Assert.Null(nowhere.GetTagItem("server.address"));
        Assert.Equal(ActivityStatusCode.Error, nowhere.Status);
        Assert.Equal(60.0, Assert.Single(nowhere.Events).Tags.Single(t => t.Key == "apim.backend.retry_after").Value);
    }

    [Theory]
    [InlineData("Gateway:Telemetry:CaptureMessageContent", "true")]
    [InlineData("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")]
    public async Task MessageContent_WhenOptedIn_IsOnTheSpanInTheConventionsShape_WithNoSecret(string setting, string value)
    {
        _backend.Answer = ModelAnswers.Completion(9, 2);
        using var apim = new TestApim(TestPolicy.With(TestPolicy.ToEastUs2 + ReadBody));
        using var factory = new GatewayFactory(apim, _backend.Url, settings: new Dictionary<string, string> { [setting] = value });

        using var response = await factory.CreateClient().PostChatAsync(body: ModelAnswers.HelloWorldChat, headers: [Traceparent()]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(_spans);
        Assert.Equal("""[{"role":"user","parts":[{"type":"text","content":"Hello world"}]}]""", span.GetTagItem("gen_ai.input.messages"));
        Assert.Equal("""[{"role":"assistant","parts":[{"type":"text","content":"Hi"}],"finish_reason":"stop"}]""", span.GetTagItem("gen_ai.output.messages"));
        AssertNoSecret(span, GatewayFactory.PrimaryKey);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("false", false)]
    [InlineData("NO_CONTENT", false)]
    [InlineData("true", true)]
    [InlineData("SPAN_AND_EVENT", true)]
    public void OptsIn_ReadsTheConventionsVariable(string? value, bool expected) => Assert.Equal(expected, GenAIOptions.OptsIn(value));

    private (string, string) Traceparent() => ("traceparent", $"00-{_traceId}-{ActivitySpanId.CreateRandom()}-01");

    private static void AssertNoSecret(Activity span, params string[] secrets)
    {
        var values = span.TagObjects.Select(t => t.Value is string[] array ? string.Join(",", array) : Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty)
            .Concat(span.Events.SelectMany(e => e.Tags.Select(t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty)))
            .Append(span.DisplayName)
            .Append(span.StatusDescription ?? string.Empty);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.Ordinal));
        }
    }

    /// <summary>The measurements of one gateway's GenAI meter (a test process hosts many gateways).</summary>
    private sealed class GenAIMeasurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

        public GenAIMeasurements(IServiceProvider services)
        {
            var meterFactory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GenAIMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyList<(double Value, Dictionary<string, object?> Tags)> Of(string instrument) =>
            [.. _measurements.Where(m => m.Instrument == instrument).Select(m => (m.Value, m.Tags))];

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, tagValue) in tags)
            {
                copy[key] = tagValue;
            }

            _measurements.Enqueue((instrument.Name, value, copy));
        }
    }
}
