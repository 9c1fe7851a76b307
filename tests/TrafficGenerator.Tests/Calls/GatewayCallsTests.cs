using System.ClientModel;
using System.Net;
using System.Text.Json;
using TrafficGenerator.Calls;
using TrafficGenerator.Reporting;
using TrafficGenerator.Scheduling;
using TrafficGenerator.Tests.Support;

namespace TrafficGenerator.Tests.Calls;

public sealed class GatewayCallsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(nameof(TrafficOperation.Chat), "/openai/v1/chat/completions", "gpt-chat")]
    [InlineData(nameof(TrafficOperation.StreamedChat), "/openai/v1/chat/completions", "gpt-chat")]
    [InlineData(nameof(TrafficOperation.Responses), "/openai/v1/responses", "gpt-chat")]
    [InlineData(nameof(TrafficOperation.Embeddings), "/openai/v1/embeddings", "embed-small")]
    public async Task CallAsync_EachOperation_ReachesItsV1PathWithTheSubscriptionKeyAndDeployment(string operationName, string path, string model)
    {
        var operation = Enum.Parse<TrafficOperation>(operationName);
        var gateway = new StubGateway(HttpStatusCode.TooManyRequests);
        var calls = new GatewayCalls(Options(), gateway.Transport);

        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => calls.CallAsync("search-indexer", operation, 0, CancellationToken.None).WaitAsync(Timeout));

        var request = Assert.Single(gateway.Requests);
        Assert.Equal(path, request.Path);
        Assert.Equal("key-of-search-indexer", request.ApiKey);
        Assert.DoesNotContain("key-of-search-indexer", request.Authorization ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(model, request.Body.GetProperty("model").GetString());
        Assert.Equal(operation == TrafficOperation.StreamedChat, request.Body.TryGetProperty("stream", out var stream) && stream.GetBoolean());
        if (operation == TrafficOperation.Responses)
        {
            Assert.False(request.Body.GetProperty("store").GetBoolean());
        }

        Assert.Equal((TrafficOutcome.Throttled, 429), GatewayCalls.Classify(thrown, stopping: false));
    }

    [Fact]
    public async Task CallAsync_Chat_AnsweredWithoutError()
    {
        var gateway = new StubGateway(HttpStatusCode.OK, """
            {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-chat",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
            """);
        var calls = new GatewayCalls(Options(), gateway.Transport);

        await calls.CallAsync("chat-app", TrafficOperation.Chat, 3, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("key-of-chat-app", Assert.Single(gateway.Requests).ApiKey);
    }

    [Fact]
    public async Task CallAsync_RetriesOff_AThrottledCallIsSentOnce()
    {
        var gateway = new StubGateway(HttpStatusCode.ServiceUnavailable);
        var calls = new GatewayCalls(Options(), gateway.Transport);

        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => calls.CallAsync("chat-app", TrafficOperation.Chat, 0, CancellationToken.None).WaitAsync(Timeout));

        Assert.Single(gateway.Requests);
        Assert.Equal((TrafficOutcome.Error, 503), GatewayCalls.Classify(thrown, stopping: false));
    }

    [Fact]
    public async Task CallAsync_MaxRetriesOne_TheClientRetriesOnce()
    {
        var gateway = new StubGateway(HttpStatusCode.ServiceUnavailable);
        var options = Options();
        options.MaxRetries = 1;
        var calls = new GatewayCalls(options, gateway.Transport);

        await Assert.ThrowsAsync<ClientResultException>(() => calls.CallAsync("chat-app", TrafficOperation.Embeddings, 0, CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(2, gateway.Requests.Count);
    }

    [Fact]
    public void Classify_NoAnswerInTime_IsATimeout_OtherFailuresAreErrors()
    {
        Assert.Equal((TrafficOutcome.Timeout, 0), GatewayCalls.Classify(new TaskCanceledException(), stopping: false));
        Assert.Equal((TrafficOutcome.Error, 0), GatewayCalls.Classify(new HttpRequestException("refused"), stopping: false));
        Assert.Equal((TrafficOutcome.Error, 0), GatewayCalls.Classify(new IOException("stream cut"), stopping: false));
        Assert.Equal((TrafficOutcome.Error, 0), GatewayCalls.Classify(new JsonException(), stopping: false));
    }

    private static TrafficOptions Options() => new()
    {
        GatewayUrl = new Uri("http://gateway.test"),
        Subscriptions = new() { ["chat-app"] = "key-of-chat-app", ["search-indexer"] = "key-of-search-indexer" },
        ChatDeployment = "gpt-chat",
        EmbeddingsDeployment = "embed-small",
    };
}
