using System.Net;
using System.Text;
using Azure.AI.OpenAI;
using Gateway.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using MockOpenAI.Server;
using MockOpenAI.Tests.Support;
using OpenAI.Chat;

namespace MockOpenAI.Tests.Server;

/// <summary>One mock account on a loopback port, on a fake clock, called over real HTTP.</summary>
public sealed class MockAccountServerTests : IAsyncLifetime
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private readonly ObservedTime _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly MockOpenAIOptions _options = new() { Account = "test", Region = "swedencentral" };
    private LoopbackAccount _account = null!;

    public async Task InitializeAsync()
    {
        _options.Deployments["gpt-4o"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20", Capacity = 2 };
        _options.Deployments["gpt-4o-paced"] = new DeploymentOptions
        {
            Model = "gpt-4o",
            Version = "2024-11-20",
            Latency = new LatencyOptions { TimeToFirstToken = TimeSpan.FromMilliseconds(500), PerOutputToken = TimeSpan.FromMilliseconds(50) },
        };
        _options.Deployments["gpt-35-turbo-instruct"] = new DeploymentOptions { Model = "gpt-35-turbo-instruct", Version = "0914" };
        _options.Deployments["text-embedding-3-small"] = new DeploymentOptions { Model = "text-embedding-3-small", Version = "1", Capacity = 1 };
        _account = await LoopbackAccount.StartAsync(_time, _options);
    }

    public async Task DisposeAsync() => await _account.DisposeAsync();

    [Fact]
    public async Task Chat_OverTheCallRate_Returns429WithAzuresBodyAndHeaders()
    {
        // Capacity 2: 2,000 tokens and 12 requests a minute, so 2 requests in any 10 seconds.
        using var first = await Chat(maxTokens: 10);
        using var second = await Chat(maxTokens: 10);
        using var third = await Chat(maxTokens: 10);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("12", Header(first, "x-ratelimit-limit-requests"));
        Assert.Equal("2000", Header(first, "x-ratelimit-limit-tokens"));
        Assert.Equal("1", Header(first, "x-ratelimit-remaining-requests"));
        Assert.Equal("swedencentral", Header(first, "x-ms-region"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Equal("10", Header(third, "Retry-After"));
        Assert.Equal("10000", Header(third, "retry-after-ms"));
        Assert.Equal("0", Header(third, "x-ratelimit-remaining-requests"));
        Assert.Equal(
            """{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 10 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}}""",
            await third.Content.ReadAsStringAsync());

        _time.Advance(TimeSpan.FromSeconds(10));
        using var afterWindow = await Chat(maxTokens: 10);
        Assert.Equal(HttpStatusCode.OK, afterWindow.StatusCode);
    }

    [Fact]
    public async Task Chat_OverTheTokenRate_RetryAfterCountsDownToWhenTheChargeLeaves()
    {
        // The estimate is the prompt plus max_tokens: about 1,510 tokens, then about 1,010 more (over 2,000).
        using var first = await Chat(maxTokens: 1500);
        _time.Advance(TimeSpan.FromSeconds(30.5));
        using var refused = await Chat(maxTokens: 1000);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal("30", Header(refused, "Retry-After"));
        Assert.Equal("29500", Header(refused, "retry-after-ms"));
        Assert.Contains("have exceeded token rate limit", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromMilliseconds(29_500));
        using var admitted = await Chat(maxTokens: 1000);
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task Stream_FirstTokenAfterTimeToFirstToken_ThenOnePerTokenTime_ThenDone()
    {
        // gpt-4o-paced: 500 ms to the first token, 50 ms a further token; 3 tokens.
        using var response = await StreamAsync("gpt-4o-paced", maxTokens: 3);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.False(response.Headers.Contains(StreamRelay.MarkerHeader));
        Assert.Contains("prompt_filter_results", await NextEventAsync(reader), StringComparison.Ordinal);

        var role = NextEventAsync(reader);
        await AssertWaitsForAsync(role, TimeSpan.FromMilliseconds(499));
        Assert.Contains("\"role\":\"assistant\"", await role.WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.Contains("\"content\":\"", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);

        for (var token = 2; token <= 3; token++)
        {
            var next = NextEventAsync(reader);
            await AssertWaitsForAsync(next, TimeSpan.FromMilliseconds(49));
            Assert.Contains("\"content\":\"", await next.WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        }

        Assert.Contains("\"finish_reason\":\"length\"", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.Equal("data: [DONE]", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request));
    }

    [Fact]
    public async Task Stream_ClientDisconnects_GenerationStops()
    {
        var response = await StreamAsync("gpt-4o-paced", maxTokens: 16);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await NextEventAsync(reader);
        Assert.Equal(1, _account.Relay.ActiveStreams);

        reader.Dispose();
        response.Dispose();

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_account.Relay.ActiveStreams > 0 && waited.Elapsed < TestTimeouts.Request)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, _account.Relay.ActiveStreams);
    }

    [Fact]
    public async Task Completions_InstructModel_AnswersATextCompletionWithItsUsage()
    {
        using var response = await Send("/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2024-10-21", """{"prompt":"Say this is a test","max_tokens":5}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("gpt-35-turbo-instruct-0914", body.GetProperty("model").GetString());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(5, choice.GetProperty("text").GetString()!.Split(' ').Length);

        // cl100k: Say| this| is| a| test = 5 prompt tokens; 5 generated.
        var usage = body.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_Streamed_SendsOneTextChunkPerTokenThenDone()
    {
        using var response = await Send("/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2024-10-21", """{"prompt":"Say this is a test","max_tokens":3,"stream":true}""");
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        // Prompt filter results, 3 tokens, the finish, [DONE].
        Assert.Equal(6, events.Length);
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.All(events[1..4], e => Assert.Contains("\"object\":\"text_completion\"", e, StringComparison.Ordinal));
        Assert.Contains("\"finish_reason\":\"length\"", events[4], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/openai/deployments/gpt-4o/completions", """{"prompt":"x"}""", "completion", "gpt-4o")]
    [InlineData("/openai/deployments/gpt-4o/embeddings", """{"input":"x"}""", "embeddings", "gpt-4o")]
    [InlineData("/openai/deployments/text-embedding-3-small/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", "chatCompletion", "text-embedding-3-small")]
    [InlineData("/openai/deployments/gpt-35-turbo-instruct/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", "chatCompletion", "gpt-35-turbo-instruct")]
    public async Task Operation_TheModelCannotDo_Is400OperationNotSupported(string path, string json, string operation, string model)
    {
        using var response = await Send(path + "?api-version=2024-10-21", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            $$$"""{"error":{"code":"OperationNotSupported","message":"The {{{operation}}} operation does not work with the specified model, {{{model}}}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993."}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_KnownSequence_CountTokensDurationsAndRefusals()
    {
        var factory = _account.MeterFactory;
        using var requested = new MetricCollector<long>(factory, MockMetrics.MeterName, "mockopenai.tokens.requested");
        using var used = new MetricCollector<long>(factory, MockMetrics.MeterName, "mockopenai.tokens.used");
        using var refusals = new MetricCollector<long>(factory, MockMetrics.MeterName, "mockopenai.rate_limit.hits");
        using var durations = new MetricCollector<double>(factory, MockMetrics.MeterName, "mockopenai.request.duration");

        // Capacity 2: two requests in 10 s; the third is refused by the call rate. "Count the regions." is
        // Count| the| regions|. = 4 tokens; + 3 framing + "user" (1) + 3 priming = 11 prompt tokens each.
        using var first = await Chat(maxTokens: 10);
        using var second = await Chat(maxTokens: 10);
        using var third = await Chat(maxTokens: 10);

        Assert.Equal(2 * (11 + 10), requested.GetMeasurementSnapshot().EvaluateAsCounter());
        var usage = used.GetMeasurementSnapshot();
        Assert.Equal(22, usage.Where(m => (string?)m.Tags["gen_ai.token.type"] == "input").Sum(m => m.Value));
        Assert.Equal(20, usage.Where(m => (string?)m.Tags["gen_ai.token.type"] == "output").Sum(m => m.Value));
        var refused = Assert.Single(refusals.GetMeasurementSnapshot());
        Assert.Equal("requests", refused.Tags["reason"]);
        Assert.Equal("gpt-4o", refused.Tags["deployment"]);
        Assert.Equal([200, 200, 429], durations.GetMeasurementSnapshot().Select(m => (int)m.Tags["http.response.status_code"]!));
    }

    [Theory]
    [InlineData("chat-stream-with-usage.txt", "/openai/deployments/gpt-4o/chat/completions", """{"messages":[{"role":"user","content":"golden"}],"max_tokens":2,"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("chat-stream.txt", "/openai/deployments/gpt-4o/chat/completions", """{"messages":[{"role":"user","content":"golden"}],"max_tokens":2,"stream":true}""")]
    [InlineData("completions-stream.txt", "/openai/deployments/gpt-35-turbo-instruct/completions", """{"prompt":"golden","max_tokens":2,"stream":true}""")]
    public async Task Stream_Structure_MatchesTheGoldenFile(string golden, string path, string json)
    {
        using var response = await Send(path + "?api-version=2024-10-21", json);

        var shape = OpenAI.StreamShape.Of(await response.Content.ReadAsStringAsync());

        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "OpenAI", "Golden", golden)), shape);
    }

    [Fact]
    public async Task Sdk_ChatPlainStreamedAndEmbeddings_ReadTheUsageTheMockReports()
    {
        var client = new AzureOpenAIClient(
            _account.Http.BaseAddress!,
            new LocalCredential(_account.Issuer),
            new AzureOpenAIClientOptions { RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0) });
        var chat = client.GetChatClient("gpt-4o");

        // "Hello!" as the only user message: 3 priming + 3 framing + "user" (1) + "Hello|!" (2) = 9 prompt tokens.
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello!")], new ChatCompletionOptions { MaxOutputTokenCount = 4 }).WaitAsync(TestTimeouts.Request);
        Assert.Equal(9, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);

        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hello!")], new ChatCompletionOptions { MaxOutputTokenCount = 4 }).WithCancellation(CancellationToken.None))
        {
            streamed.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            usage ??= update.Usage;
        }

        Assert.Equal(4, streamed.ToString().Split(' ').Length);
        Assert.NotNull(usage);
        Assert.Equal(9, usage.InputTokenCount);
        Assert.Equal(4, usage.OutputTokenCount);

        // cl100k: "Hello|!" = 2 tokens.
        var embedding = await client.GetEmbeddingClient("text-embedding-3-small").GenerateEmbeddingsAsync(["Hello!"]).WaitAsync(TestTimeouts.Request);
        Assert.Equal(2, embedding.Value.Usage.InputTokenCount);
        Assert.Equal(1536, embedding.Value[0].ToFloats().Length);
    }

    [Fact]
    public async Task Faults_NextTwoRequests429WithRetryAfter_ThenTheEmulatorAgain()
    {
        await AddMappingAsync("""
            {
              "Priority": 1,
              "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/gpt-4o/" } ] }, "Methods": [ "POST" ] },
              "Response": { "StatusCode": 429, "Headers": { "Retry-After": "7", "Content-Type": "application/json" }, "Body": "{\"error\":{\"code\":\"429\",\"message\":\"scripted\"}}" },
              "Scenario": "two-429s", "SetStateTo": "over", "TimesInSameState": 2
            }
            """);

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await Chat(maxTokens: 5);
            statuses.Add((int)response.StatusCode);
            if (i == 0)
            {
                Assert.Equal("7", Header(response, "Retry-After"));
            }
        }

        Assert.Equal([429, 429, 200], statuses);
        Assert.Equal(3, (await JournalAsync()).Count(p => p.StartsWith("/openai/", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Faults_ServerErrorForOneRequest(int status)
    {
        await AddMappingAsync($$"""
            {
              "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/gpt-4o/" } ] } },
              "Response": { "StatusCode": {{status}} },
              "Scenario": "one-error", "SetStateTo": "over", "TimesInSameState": 1
            }
            """);

        using var failed = await Chat(maxTokens: 5);
        using var recovered = await Chat(maxTokens: 5);

        Assert.Equal(status, (int)failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task Faults_Reset_DropsTheConnectionBeforeAnyByte()
    {
        await AddMappingAsync(FaultMapping("reset"));

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => Chat(maxTokens: 5));
    }

    [Fact]
    public async Task Faults_AbortAfterThreeEvents_CutsTheStreamBeforeDone()
    {
        await AddMappingAsync(FaultMapping("abort-after=3"));

        using var response = await StreamAsync("gpt-4o", maxTokens: 16);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        var cut = await Record.ExceptionAsync(async () =>
        {
            while (true)
            {
                events.Add(await NextEventAsync(reader).WaitAsync(TestTimeouts.Request));
            }
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, events.Count);
        Assert.DoesNotContain("data: [DONE]", events);
        Assert.True(cut is IOException or HttpRequestException or EndOfStreamException, cut?.ToString());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    public async Task Chat_BodyThatIsNotAnObject_Is400(string json)
    {
        using var response = await Send(ChatPath, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Faults_Hang_NeverAnswers_AndTheClientGivingUpIsCounted()
    {
        using var cancelled = new MetricCollector<long>(_account.MeterFactory, MockMetrics.MeterName, "mockopenai.requests.cancelled");
        await AddMappingAsync(FaultMapping("hang"));

        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json") };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _account.Http.SendAsync(request, cancellation.Token));
        var measurement = await NextMeasurementAsync(cancelled);
        Assert.Equal(MockMetrics.Waiting, measurement.Tags["stage"]);
    }

    [Fact]
    public async Task Faults_Delay_SendsNothingUntilTheDelayHasPassedOnTheAccountsClock_ThenTheWholeStream()
    {
        await AddMappingAsync(FaultMapping("delay=5000"));

        var sending = StreamAsync("gpt-4o", maxTokens: 16);
        await _time.WaitForTimerAsync(TimeSpan.FromMilliseconds(5000), TestTimeouts.Request);
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        await Task.Delay(100);
        Assert.False(sending.IsCompleted, "the headers came before the delay had passed");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        using var response = await sending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ClientLeavesMidStream_CountsACancellationAtOnce()
    {
        using var cancelled = new MetricCollector<long>(_account.MeterFactory, MockMetrics.MeterName, "mockopenai.requests.cancelled");
        using var response = await StreamAsync("gpt-4o-paced", maxTokens: 16);
        var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        await NextEventAsync(reader).WaitAsync(TestTimeouts.Request);

        // The client gives up on the stream (the role chunk waits for the paced first token, on a clock that stands
        // still): a cancelled read closes its connection at once, where disposing the response would first drain it for
        // up to 2 s.
        using var leave = new CancellationTokenSource();
        var reading = body.ReadAsync(new byte[1024], leave.Token).AsTask();
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TestTimeouts.Request));
        var left = System.Diagnostics.Stopwatch.StartNew();
        var measurement = await NextMeasurementAsync(cancelled);

        Assert.Equal(MockMetrics.Streaming, measurement.Tags["stage"]);
        Assert.True(left.Elapsed < TestTimeouts.AtOnce, $"counted {left.Elapsed} after the client left");
    }

    [Fact]
    public async Task Sdk_RequiredToolCall_PlainAndStreamed_ParseAsFunctionCalls()
    {
        var client = new AzureOpenAIClient(_account.Http.BaseAddress!, new LocalCredential(_account.Issuer), new AzureOpenAIClientOptions { RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0) });
        var chat = client.GetChatClient("gpt-4o");
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather now", BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"},"days":{"type":"integer"}}}""")));

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Weather in Tokyo?")], options).WaitAsync(TestTimeouts.Request);

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, System.Text.Json.JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("days").ValueKind);

        var name = (string?)null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Tokyo?")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                name ??= part.FunctionName;
                arguments.Append(part.FunctionArgumentsUpdate is { } piece ? Encoding.UTF8.GetString(piece.ToMemory().Span) : string.Empty);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather", name);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var streamed = System.Text.Json.JsonDocument.Parse(arguments.ToString()).RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.String, streamed.GetProperty("location").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, streamed.GetProperty("days").ValueKind);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("admin:wrong-password")]
    public async Task AdminApi_WithoutItsCredentials_Is401(string? credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/__admin/requests");
        if (credentials is not null)
        {
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        using var response = await _account.Http.SendAsync(request).WaitAsync(TestTimeouts.Request);
        using var mapping = await _account.Http.PostAsync(new Uri("/__admin/mappings", UriKind.Relative), new StringContent(FaultMapping("hang"), Encoding.UTF8, "application/json")).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, mapping.StatusCode);
        using var chat = await Chat(maxTokens: 1);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Fact]
    public async Task Journal_KeepsNoTokenOrKey_ButTheTokensClaims()
    {
        using var chat = await Chat(maxTokens: 1);
        using var keyed = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = new StringContent("""{"messages":[{"role":"user","content":"x"}]}""", Encoding.UTF8, "application/json") };
        keyed.Headers.Add("api-key", "a-key-that-must-not-be-kept");
        using var refused = await _account.Http.SendAsync(keyed).WaitAsync(TestTimeouts.Request);

        var journal = await _account.Admin.GetStringAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request);
        var headers = System.Text.Json.JsonDocument.Parse(journal).RootElement.EnumerateArray()
            .Select(e => e.GetProperty("Request").GetProperty("Headers"))
            .ToList();

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.DoesNotContain("a-key-that-must-not-be-kept", journal, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", journal, StringComparison.Ordinal);
        var bearer = Assert.Single(headers, h => h.TryGetProperty("Authorization", out _));
        Assert.Equal("Bearer [redacted]", bearer.GetProperty("Authorization")[0].GetString());
        Assert.Contains("aud=https://cognitiveservices.azure.com", bearer.GetProperty("x-mock-token-claims")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("[redacted]", Assert.Single(headers, h => h.TryGetProperty("api-key", out _)).GetProperty("api-key")[0].GetString());
    }

    [Fact]
    public async Task AdminApi_WithoutAPasswordConfigured_IsOff()
    {
        await using var account = await LoopbackAccount.StartAsync(_time, new MockOpenAIOptions { Account = "no-admin", Region = "swedencentral" }, withAdmin: false);

        using var journal = await account.Admin.GetAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.NotFound, journal.StatusCode);
    }

    private const string PersonSchema = """{"type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string","enum":["a","b"]}},"home":{"$ref":"#/$defs/place"}},"required":["name","tags","home"],"additionalProperties":false,"$defs":{"place":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":["string","null"]}},"required":["city","zip"],"additionalProperties":false}}}""";

    [Theory]
    [InlineData(
        """{"messages":[{"role":"user","content":"Who won?"}],"response_format":{"type":"json_object"}}""",
        """{"error":{"message":"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.","type":"invalid_request_error","param":"messages","code":null}}""")]
    [InlineData(
        """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"default","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}}}}""",
        """{"error":{"message":"Invalid schema for response_format 'default': In context=(), 'additionalProperties' is required to be supplied and to be false.","type":"invalid_request_error","param":"response_format","code":null}}""")]
    public async Task Chat_ResponseFormatTheServiceRefuses_Is400WithItsBody(string json, string expected)
    {
        using var response = await Send(ChatPath, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
    }

    [Fact]
    public async Task Chat_JsonObjectWithJsonMentioned_AnswersAJsonObject()
    {
        using var response = await Send(ChatPath, """{"messages":[{"role":"system","content":"Reply in JSON."},{"role":"user","content":"Who won?"}],"response_format":{"type":"json_object"}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request)).RootElement;
        var content = System.Text.Json.JsonDocument.Parse(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!).RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.String, content.GetProperty("answer").ValueKind);
    }

    [Fact]
    public async Task Chat_JsonSchema_AnswersJsonOfTheSchemaWithItsTokens()
    {
        using var response = await Send(ChatPath, """{"messages":[{"role":"user","content":"Who?"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":""" + PersonSchema + """}}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request)).RootElement;
        var choice = body.GetProperty("choices")[0];
        var content = choice.GetProperty("message").GetProperty("content").GetString()!;
        Support.SchemaAssert.Valid(PersonSchema, content);
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(TokenCounting.TokenCounter.ForModel("gpt-4o").Count(content), body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_JsonSchemaStreamed_DeltasJoinIntoJsonOfTheSchema()
    {
        using var response = await Send(ChatPath, """{"messages":[{"role":"user","content":"Who?"}],"stream":true,"stream_options":{"include_usage":true},"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":""" + PersonSchema + """}}}""");
        var events = (await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        var chunks = events[..^1].Select(e => System.Text.Json.JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        var deltas = chunks
            .Where(c => c.GetProperty("choices").GetArrayLength() == 1 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var piece) && piece.GetString()!.Length > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString())
            .ToList();
        Assert.Equal("data: [DONE]", events[^1]);
        Support.SchemaAssert.Valid(PersonSchema, string.Concat(deltas));
        Assert.Equal(deltas.Count, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Sdk_JsonSchemaFormat_ReadsJsonOfTheSchema()
    {
        var client = new AzureOpenAIClient(
            _account.Http.BaseAddress!,
            new LocalCredential(_account.Issuer),
            new AzureOpenAIClientOptions { RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0) });
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true),
        };

        ChatCompletion completion = await client.GetChatClient("gpt-4o").CompleteChatAsync([new UserChatMessage("Who?")], options).WaitAsync(TestTimeouts.Request);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Support.SchemaAssert.Valid(PersonSchema, completion.Content[0].Text);
    }

    [Fact]
    public async Task V1_ChatAndEmbeddings_TakeTheDeploymentFromModel()
    {
        using var chat = await Send("/openai/v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}],"max_tokens":3}""");
        using var embeddings = await Send("/openai/v1/embeddings", """{"model":"text-embedding-3-small","input":"Hello!"}""");

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        var completion = System.Text.Json.JsonDocument.Parse(await chat.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.Equal(9, completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(HttpStatusCode.OK, embeddings.StatusCode);
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(await embeddings.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task V1_Responses_AnswerWithOutputTextAndUsage()
    {
        using var response = await Send("/openai/v1/responses", """{"model":"gpt-4o","instructions":"You are a helpful assistant.","input":"Hello!","max_output_tokens":4}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("response", body.GetProperty("object").GetString());
        Assert.StartsWith("resp_", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("incomplete", body.GetProperty("status").GetString());
        var text = body.GetProperty("output")[0].GetProperty("content")[0];
        Assert.Equal("output_text", text.GetProperty("type").GetString());
        Assert.Equal(4, text.GetProperty("text").GetString()!.Split(' ').Length);

        // As chat messages: 3 priming + (3 + 1 + 6) system + (3 + 1 + 2) user = 19.
        var usage = body.GetProperty("usage");
        Assert.Equal(19, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(23, usage.GetProperty("total_tokens").GetInt32());
    }

    [Theory]
    [InlineData("/openai/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", 400, "\"param\":\"model\"")]
    [InlineData("/openai/v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"x"}]}""", 404, "DeploymentNotFound")]
    [InlineData("/openai/v1/responses", """{"model":"text-embedding-3-small","input":"x"}""", 400, "The responses operation does not work")]
    [InlineData("/openai/v1/responses", """{"model":"gpt-4o","input":"x","previous_response_id":5}""", 400, "\"param\":\"previous_response_id\"")]
    [InlineData("/openai/v1/responses", """{"model":"gpt-4o","input":"x","store":"yes"}""", 400, "\"param\":\"store\"")]
    public async Task V1_BadRequests_AreRefusedClearly(string path, string json, int status, string expected)
    {
        using var response = await Send(path, json);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorRate_One_AnswersEveryInferenceRequestWith500()
    {
        _options.ErrorRate = 1;

        using var response = await Chat(maxTokens: 3);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("""{"error":{"code":"InternalServerError","message":"The server had an error while processing your request. Sorry about that!"}}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void ErrorRate_ThreeTenths_FailsAboutThreeRequestsInTen()
    {
        var faults = new RandomFaults(Options.Create(new MockOpenAIOptions { ErrorRate = 0.3 }), new Random(7));

        var failures = Enumerable.Range(0, 10_000).Count(_ => faults.NextFails());

        Assert.InRange(failures, 2_850, 3_150);
    }

    [Theory]
    [InlineData("account-key-1", 200, null)]
    [InlineData("account-key-2", 200, null)]
    [InlineData("wrong-key", 401, """{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}""")]
    public async Task ApiKeys_AccountWithLocalAuth_AcceptsItsKeysOnly(string key, int status, string? body)
    {
        _options.ApiKeys.AddRange(["account-key-1", "account-key-2"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", key);

        using var response = await _account.Http.SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(status, (int)response.StatusCode);
        if (body is not null)
        {
            Assert.Equal(body, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("/openai/deployments/gpt-4o/chat/completions?api-version=2023-11-06-preview", 400)]
    [InlineData("/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01", 200)]
    [InlineData("/openai/v1/chat/completions?api-version=preview", 200)]
    [InlineData("/openai/v1/chat/completions?api-version=v1", 200)]
    [InlineData("/openai/deployments/gpt-4o/chat/completions?api-version=2025-04-01-preview", 200)]
    [InlineData("/openai/deployments/gpt-4o/chat/completions?api-version=v1", 400)]
    [InlineData("/openai/v1/chat/completions?api-version=2020-01-01", 400)]
    public async Task ApiVersion_OnlyKnownVersionsAreAccepted(string path, int status)
    {
        using var response = await Send(path, """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""");

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 400)
        {
            Assert.Equal("""{"error":{"code":"BadRequest","message":"API version not supported"}}""", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Embeddings_OverTheCallRate_NameTheEmbeddingsOperation()
    {
        // Capacity 1: one request in any 10 seconds.
        using var first = await Send("/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21", """{"input":"hello"}""");
        using var second = await Send("/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21", """{"input":"hello"}""");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Contains("Requests to the Embeddings_Create Operation", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/openai/deployments/gpt-4o/chat/completions", true, false, 404, """{"error":{"code":"404","message": "Resource not found"}}""")]
    [InlineData("/openai/deployments/nope/chat/completions?api-version=2024-10-21", true, false, 404, """{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}""")]
    [InlineData(ChatPath, false, false, 401, """{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}""")]
    [InlineData(ChatPath, false, true, 403, """{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this resource."}}""")]
    public async Task Chat_BadRequests_GetAzuresStatusAndBody(string path, bool withToken, bool withKey, int status, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json") };
        if (withToken)
        {
            request.Headers.Authorization = new("Bearer", (await _account.Issuer.GetTokenAsync("https://cognitiveservices.azure.com", "client", CancellationToken.None)).Token);
        }

        if (withKey)
        {
            request.Headers.Add("api-key", "some-key");
        }

        using var response = await _account.Http.SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Advances the fake clock by <paramref name="justShort"/> and checks the event has not come yet, then by 1 ms more.
    /// The real pause first lets the relay reach its delay, so the delay starts from the clock's current time.
    /// </summary>
    private async Task AssertWaitsForAsync(Task<string> next, TimeSpan justShort)
    {
        await Task.Delay(100);
        _time.Advance(justShort);
        await Task.Delay(100);
        Assert.False(next.IsCompleted, $"an event came before {justShort.TotalMilliseconds + 1} ms had passed");
        _time.Advance(TimeSpan.FromMilliseconds(1));
    }

    private async Task<HttpResponseMessage> StreamAsync(string deployment, int maxTokens)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent($$"""{"messages":[{"role":"user","content":"stream"}],"max_tokens":{{maxTokens}},"stream":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", (await _account.Issuer.GetTokenAsync("https://cognitiveservices.azure.com", "client", CancellationToken.None)).Token);
        return await _account.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestTimeouts.Request);
    }

    /// <summary>Adds a WireMock mapping through the admin API, as a test or a person scripts a fault.</summary>
    private async Task AddMappingAsync(string json)
    {
        using var response = await _account.Admin.PostAsync(new Uri("/__admin/mappings", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json")).WaitAsync(TestTimeouts.Request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static string FaultMapping(string fault) => $$"""
        {
          "Priority": 1,
          "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/gpt-4o/" } ] } },
          "Response": { "StatusCode": 200, "Headers": { "x-mock-fault": "{{fault}}" } }
        }
        """;

    /// <summary>The paths of the requests the mock recorded, from WireMock's journal.</summary>
    private async Task<IReadOnlyList<string>> JournalAsync()
    {
        var journal = System.Text.Json.JsonDocument.Parse(await _account.Admin.GetStringAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request));
        return [.. journal.RootElement.EnumerateArray().Select(e => e.GetProperty("Request").GetProperty("Path").GetString()!)];
    }

    /// <summary>Waits (in real time, at most <see cref="TestTimeouts.Request"/>) for the collector's first measurement.</summary>
    private static async Task<CollectedMeasurement<long>> NextMeasurementAsync(MetricCollector<long> collector)
    {
        await collector.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);
        return Assert.Single(collector.GetMeasurementSnapshot());
    }

    private static async Task<string> NextEventAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length > 0)
            {
                return line;
            }
        }

        throw new EndOfStreamException();
    }

    private Task<HttpResponseMessage> Chat(int maxTokens) =>
        Send(ChatPath, $$"""{"messages":[{"role":"user","content":"Count the regions."}],"max_tokens":{{maxTokens}}}""");

    private async Task<HttpResponseMessage> Send(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", (await _account.Issuer.GetTokenAsync("https://cognitiveservices.azure.com", "client", CancellationToken.None)).Token);
        return await _account.Http.SendAsync(request).WaitAsync(TestTimeouts.Request);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Join(",", response.Content.Headers.GetValues(name));

    /// <summary>The SDK's credential, backed by the gateway's local issuer (what the mock accepts).</summary>
    private sealed class LocalCredential(LocalTokenIssuer issuer) : Azure.Core.TokenCredential
    {
        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            var token = await issuer.GetTokenAsync("https://cognitiveservices.azure.com", "sdk", cancellationToken);
            return new Azure.Core.AccessToken(token.Token, token.ExpiresOn);
        }
    }
}
