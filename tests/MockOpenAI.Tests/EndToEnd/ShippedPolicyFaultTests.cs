using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.AI.OpenAI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using MockOpenAI.Server;
using MockOpenAI.Tests.Support;
using OpenAI.Chat;

namespace MockOpenAI.Tests.EndToEnd;

/// <summary>
/// Backend faults under the shipped <c>apim/</c> (its policy, the gpt-4o pool of three members, breakers that trip on one
/// failure): the gateway in front of real mock accounts in this process, all on one fake clock. East US 2 (priority 1)
/// misbehaves as scripted through its admin API; Sweden Central and Japan East (priority 2) are served by a second,
/// healthy account. The client must see no error while priority 2 has capacity, except the one 503 with
/// <c>Retry-After: 1</c> that the shipped policy answers when a backend could not be reached or did not answer in time
/// (API Management's <c>retry</c> cannot retry a failed <c>forward-request</c>, docs/fidelity.md); a stream already
/// under way ends with a closed connection, never a hang.
/// </summary>
public sealed class ShippedPolicyFaultTests : IAsyncLifetime, IDisposable
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string PriorityTwoRegion = "swedencentral";

    /// <summary>The shipped policy's <c>forward-request timeout="120"</c>.</summary>
    private static readonly TimeSpan ForwardTimeout = TimeSpan.FromSeconds(120);

    private readonly ObservedTime _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly RSA _key = RSA.Create(2048);
    private LoopbackAccount? _priorityOne;
    private LoopbackAccount? _priorityTwo;
    private InProcessGateway? _gateway;
    private readonly HttpClient _client = new();

    private LoopbackAccount PriorityOne => _priorityOne!;

    private LoopbackAccount PriorityTwo => _priorityTwo!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        foreach (var account in new[] { _priorityOne, _priorityTwo })
        {
            if (account is not null)
            {
                await account.DisposeAsync();
            }
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _key.Dispose();
    }

    [Fact]
    public async Task ConnectionRefused_OneServiceUnavailableWithRetryAfter_ThenPriorityTwoServes()
    {
        await StartAsync();
        await PriorityOne.DisposeAsync();
        _priorityOne = null;

        using var refused = await ChatAsync();
        using var next = await ChatAsync();

        await AssertServiceUnavailableAsync(refused);
        AssertServedByPriorityTwo(next);
    }

    [Fact]
    public async Task ResetBeforeHeaders_OneServiceUnavailableWithRetryAfter_ThenPriorityTwoServes()
    {
        await StartAsync();
        await ScriptAsync(PriorityOne, """{ "StatusCode": 200, "Headers": { "x-mock-fault": "reset" } }""");

        using var reset = await ChatAsync();
        using var next = await ChatAsync();

        await AssertServiceUnavailableAsync(reset);
        AssertServedByPriorityTwo(next);
    }

    [Fact]
    public async Task ResetBeforeHeaders_TheOfficialSdkWithItsDefaultRetries_SeesNoError()
    {
        await StartAsync();
        await ScriptAsync(PriorityOne, """{ "StatusCode": 200, "Headers": { "x-mock-fault": "reset" } }""");
        var chat = new AzureOpenAIClient(_gateway!.Url, new ApiKeyCredential(InProcessGateway.ChatAppKey)).GetChatClient("gpt-4o");
        var watch = Stopwatch.StartNew();

        // The first try meets the reset (503, Retry-After: 1, which the SDK honours); its retry goes to priority 2.
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Still there?")]).WaitAsync(TestTimeouts.Request);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Equal(1, await InferenceRequestsAsync(PriorityOne));
    }

    [Fact]
    public async Task HangBeforeHeaders_EndsAtTheForwardRequestTimeout_ThenPriorityTwoServes()
    {
        await StartAsync();
        await ScriptAsync(PriorityOne, """{ "StatusCode": 200, "Headers": { "x-mock-fault": "hang" } }""");

        var hanging = ChatAsync();
        await _time.WaitForTimerAsync(ForwardTimeout, TestTimeouts.Request);
        _time.Advance(ForwardTimeout - TimeSpan.FromMilliseconds(1));
        await Task.Delay(100);
        Assert.False(hanging.IsCompleted, "answered before the timeout");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        using var timedOut = await hanging;
        using var next = await ChatAsync();

        await AssertServiceUnavailableAsync(timedOut);
        AssertServedByPriorityTwo(next);
    }

    [Fact]
    public async Task SlowFirstByte_UnderTheTimeout_IsServedByPriorityOne()
    {
        await StartAsync();
        await ScriptAsync(PriorityOne, """{ "StatusCode": 200, "Headers": { "x-mock-fault": "delay=119000" } }""");

        var slow = ChatAsync(stream: true);
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(119), TestTimeouts.Request);
        await _time.WaitForTimerAsync(ForwardTimeout, TestTimeouts.Request);
        _time.Advance(TimeSpan.FromSeconds(119));
        using var response = await slow;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.Equal(1, await InferenceRequestsAsync(PriorityOne));
        Assert.Equal(0, await InferenceRequestsAsync(PriorityTwo));
    }

    [Fact]
    public async Task SlowFirstByte_OverTheTimeout_OneServiceUnavailable_ThenPriorityTwoServes_AndPriorityOneSeesTheCancellation()
    {
        await StartAsync();
        using var cancelled = new MetricCollector<long>(PriorityOne.MeterFactory, MockMetrics.MeterName, "mockopenai.requests.cancelled");
        await ScriptAsync(PriorityOne, """{ "StatusCode": 200, "Headers": { "x-mock-fault": "delay=180000" } }""");

        var slow = ChatAsync(stream: true);
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(180), TestTimeouts.Request);
        await _time.WaitForTimerAsync(ForwardTimeout, TestTimeouts.Request);
        _time.Advance(ForwardTimeout);
        using var timedOut = await slow;
        using var next = await ChatAsync();

        await AssertServiceUnavailableAsync(timedOut);
        AssertServedByPriorityTwo(next);
        await cancelled.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);
        Assert.Equal(MockMetrics.Waiting, Assert.Single(cancelled.GetMeasurementSnapshot()).Tags["stage"]);
    }

    [Fact]
    public async Task AbortMidStream_TheClientsStreamEndsWithAClosedConnection_NeverAHang()
    {
        await StartAsync();
        await ScriptAsync(PriorityOne, """{ "StatusCode": 200, "Headers": { "x-mock-fault": "abort-after=3" } }""");

        using var response = await ChatAsync(stream: true);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        var cut = await Record.ExceptionAsync(async () =>
        {
            while (await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request) is { } line)
            {
                if (line.Length > 0)
                {
                    events.Add(line);
                }
            }
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, events.Count);
        Assert.True(cut is IOException or HttpRequestException, cut?.ToString() ?? "the stream ended as if complete");
    }

    [Theory]
    [InlineData(500, null)]
    [InlineData(503, null)]
    [InlineData(429, "1")]
    public async Task StormOnPriorityOne_EveryCallIsServedByPriorityTwo_WithoutAnError(int status, string? retryAfter)
    {
        await StartAsync();
        var headers = retryAfter is null
            ? """{ "Content-Type": "application/json" }"""
            : $$"""{ "Content-Type": "application/json", "Retry-After": "{{retryAfter}}", "retry-after-ms": "{{retryAfter}}000" }""";
        await ScriptAsync(PriorityOne, $$$"""{ "StatusCode": {{{status}}}, "Headers": {{{headers}}}, "Body": "{\"error\":{\"code\":\"{{{status}}}\",\"message\":\"Scripted storm.\"}}" }""");

        for (var call = 0; call < 5; call++)
        {
            using var response = await ChatAsync();
            AssertServedByPriorityTwo(response);

            // Past the trip (10 s, or the Retry-After of a 429): each call meets the storm again and fails over within itself.
            _time.Advance(TimeSpan.FromSeconds(11));
        }

        Assert.Equal(5, await InferenceRequestsAsync(PriorityOne));
    }

    [Fact]
    public async Task ClientLeavesMidStream_PriorityOneSeesTheCancellationAtOnce()
    {
        // Paced on a clock that stands still: the prompt-filter chunk leaves at once, the first token never.
        await StartAsync(new LatencyOptions { TimeToFirstToken = TimeSpan.FromMilliseconds(500), PerOutputToken = TimeSpan.FromMilliseconds(50) });
        using var cancelled = new MetricCollector<long>(PriorityOne.MeterFactory, MockMetrics.MeterName, "mockopenai.requests.cancelled");
        using var response = await ChatAsync(stream: true);
        var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        Assert.Contains("prompt_filter_results", await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);

        // A cancelled read closes the client's connection at once (disposing the response would drain it first).
        using var leave = new CancellationTokenSource();
        var reading = reader.ReadToEndAsync(leave.Token);
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TestTimeouts.Request));
        var left = Stopwatch.StartNew();
        await cancelled.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);

        Assert.Equal(MockMetrics.Streaming, Assert.Single(cancelled.GetMeasurementSnapshot()).Tags["stage"]);
        Assert.True(left.Elapsed < TestTimeouts.AtOnce, $"the account saw the cancellation {left.Elapsed} after the client left");
    }

    private static MockOpenAIOptions Account(string name, string region, LatencyOptions? latency = null)
    {
        var options = new MockOpenAIOptions { Account = name, Region = region };
        options.Deployments["gpt-4o"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20", Latency = latency };
        return options;
    }

    private static async Task AssertServiceUnavailableAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains("\"code\":\"ServiceUnavailable\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static void AssertServedByPriorityTwo(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PriorityTwoRegion, response.Headers.GetValues("x-ms-region").Single());
    }

    /// <summary>Adds a mapping to <paramref name="account"/> that answers every gpt-4o call with <paramref name="response"/>, until the test ends.</summary>
    private static async Task ScriptAsync(LoopbackAccount account, string response)
    {
        var mapping = $$"""
            {
              "Priority": 1,
              "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/gpt-4o/" } ] }, "Methods": [ "POST" ] },
              "Response": {{response}}
            }
            """;
        using var created = await account.Admin.PostAsync(new Uri("/__admin/mappings", UriKind.Relative), new StringContent(mapping, Encoding.UTF8, "application/json")).WaitAsync(TestTimeouts.Request);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    /// <summary>How many inference calls the account's journal holds.</summary>
    private static async Task<int> InferenceRequestsAsync(LoopbackAccount account)
    {
        using var journal = System.Text.Json.JsonDocument.Parse(await account.Admin.GetStringAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request));
        return journal.RootElement.EnumerateArray().Count(e => e.GetProperty("Request").GetProperty("Path").GetString()!.StartsWith("/openai/", StringComparison.Ordinal));
    }

    private async Task StartAsync(LatencyOptions? priorityOneLatency = null)
    {
        _priorityOne = await LoopbackAccount.StartAsync(_time, Account("aoai-eastus2", "eastus2", priorityOneLatency), signingKey: _key);
        _priorityTwo = await LoopbackAccount.StartAsync(_time, Account("aoai-swedencentral", PriorityTwoRegion), signingKey: _key);
        _gateway = InProcessGateway.InFrontOf(_time, _key, new Dictionary<string, Uri>
        {
            ["aoai-eastus2-gpt-4o"] = _priorityOne.Http.BaseAddress!,
            ["aoai-swedencentral-gpt-4o"] = _priorityTwo.Http.BaseAddress!,
            ["aoai-japaneast-gpt-4o"] = _priorityTwo.Http.BaseAddress!,
        });
        _client.BaseAddress = _gateway.Url;
    }

    private async Task<HttpResponseMessage> ChatAsync(bool stream = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath)
        {
            Content = new StringContent($$"""{"messages":[{"role":"user","content":"Still there?"}],"max_tokens":5,"stream":{{(stream ? "true" : "false")}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", InProcessGateway.ChatAppKey);
        return await _client.SendAsync(request, stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead).WaitAsync(TestTimeouts.Request);
    }
}
