using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AppHost.Tests;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using TrafficGenerator.Calls;

namespace OpenAIV1.Tests;

/// <summary>
/// The official OpenAI .NET client (2.15) on Azure OpenAI's v1 surface through the AppHost's gateway and the shipped
/// policy: the endpoint is <c>&lt;gateway&gt;/openai/v1/</c> and the subscription key goes in <c>api-key</c> (the client
/// itself sends it as a bearer token, which the policy replaces with the gateway's managed identity).
/// </summary>
[Collection(AspireAppGroup.Name)]
public sealed class V1ClientTests(LoadBalancedAppFixture app) : IClassFixture<LoadBalancedAppFixture>
{
    private static readonly TimeSpan Timeout = LoadBalancedAppFixture.Timeout;
    private static readonly string[] PostOnly = ["POST"];
    private static readonly string[] OrderFields = ["customer", "lines", "status", "note"];
    private static readonly string[] OrderStatuses = ["open", "shipped", "cancelled"];

    [SkippableFact]
    public async Task Chat_OnTheV1Surface_Answers()
    {
        var chat = Client(app.Key).GetChatClient("gpt-4o");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello!")]).WaitAsync(Timeout);

        Assert.NotEmpty(completion.Content[0].Text);
        Assert.True(completion.Usage.TotalTokenCount > 0);
    }

    [SkippableFact]
    public async Task StreamedChat_OnTheV1Surface_ArrivesInUpdates()
    {
        var chat = Client(app.Key).GetChatClient("gpt-4o");
        var text = new StringBuilder();
        var updates = 0;

        using var cancellation = new CancellationTokenSource(Timeout);
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Stream five tokens")], new ChatCompletionOptions { MaxOutputTokenCount = 5 }, cancellation.Token))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.True(updates >= 5, $"only {updates} updates");
        Assert.Equal(5, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [SkippableFact]
    public async Task Responses_Plain_Answers()
    {
        var responses = Client(app.Key).GetResponsesClient();

        ResponseResult response = await responses.CreateResponseAsync("gpt-4o", "Hello!", previousResponseId: null).WaitAsync(Timeout);

        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.NotEmpty(response.GetOutputText());
        Assert.True(response.Usage.OutputTokenCount > 0);
    }

    [SkippableFact]
    public async Task Responses_Streamed_DeltasMakeTheCompletedText()
    {
        var responses = Client(app.Key).GetResponsesClient();
        var deltas = new StringBuilder();
        ResponseResult? completed = null;

        using var cancellation = new CancellationTokenSource(Timeout);
        await foreach (var update in (await responses.CreateResponseStreamingAsync("gpt-4o", "Stream a short answer", previousResponseId: null, cancellation.Token)).WithCancellation(cancellation.Token))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                deltas.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }

        Assert.NotNull(completed);
        Assert.NotEmpty(deltas.ToString());
        Assert.Equal(completed.GetOutputText(), deltas.ToString());
        Assert.True(completed.Usage.TotalTokenCount > 0);
    }

    [SkippableFact]
    public async Task Conversation_SecondTurnAfterAStreamedFirst_ReachesTheAccountThatStoredIt()
    {
        var responses = Client(app.Key).GetResponsesClient();
        var first = await StreamedTurnAsync(responses, "Start a story", previousResponseId: null);

        ResponseResult second = await responses.CreateResponseAsync("gpt-4o", "And then?", first).WaitAsync(Timeout);
        ResponseResult third = await responses.CreateResponseAsync("gpt-4o", "And finally?", second.Id).WaitAsync(Timeout);

        // Only the account that stored a response can continue it: any other would have answered 400.
        Assert.NotEmpty(second.GetOutputText());
        Assert.NotEmpty(third.GetOutputText());
        Assert.Equal(first, second.PreviousResponseId);
        Assert.Equal(second.Id, third.PreviousResponseId);
        ResponseResult stored = await responses.GetResponseAsync(third.Id).WaitAsync(Timeout);
        Assert.Equal(third.GetOutputText(), stored.GetOutputText());
    }

    [SkippableFact]
    public async Task Conversation_WhenThePriorityOneAccountThrottlesBetweenTurns_GetsItsThrottle_ThenTheTurnOnceItRecovers()
    {
        Skip.If(app.IsDeployed, "scripts throttling through the local mocks' admin API");
        var first = await StreamedTurnAsync(Client(app.Key).GetResponsesClient(), "Start a story", previousResponseId: null);

        // East US 2 (priority 1, where the first turn went) throttles its next Responses call for 2 seconds.
        using (var mapping = await app.MockAdmin.PostAsync(new Uri(app.MockUrls["aoai-eastus2"], "/__admin/mappings"), JsonContent.Create(new
        {
            Priority = 1,
            Request = new { Path = new { Matchers = new[] { new { Name = "RegexMatcher", Pattern = "^/openai/v1/responses$" } } }, Methods = PostOnly },
            Response = new { StatusCode = 429, Headers = new Dictionary<string, string> { ["Retry-After"] = "2", ["Content-Type"] = "application/json" }, Body = """{"error":{"code":"429","message":"Scripted throttling in East US 2."}}""" },
            Scenario = "conversation-throttle",
            SetStateTo = "over",
            TimesInSameState = 1,
        })).WaitAsync(Timeout))
        {
            mapping.EnsureSuccessStatusCode();
        }

        // The client's own retries off: East US 2's 429 and Retry-After, never another account's "not found".
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client(app.Key).GetResponsesClient().CreateResponseAsync("gpt-4o", "And then?", first).WaitAsync(Timeout));
        Assert.Equal(429, refused.Status);
        Assert.True(refused.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.Equal("2", retryAfter);
        Assert.Contains("Scripted throttling in East US 2.", refused.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);

        // With the client's retries on (honouring Retry-After): the completed turn, from East US 2 once it recovers.
        ResponseResult second = await Client(app.Key, retries: 3).GetResponsesClient().CreateResponseAsync("gpt-4o", "And then?", first).WaitAsync(Timeout);
        Assert.Equal(first, second.PreviousResponseId);
        Assert.NotEmpty(second.GetOutputText());
    }

    [SkippableFact]
    public async Task Responses_PlainAndStreamed_CountAgainstTheSubscriptionToTheToken()
    {
        Skip.If(app.SecondKey is null, "a deployed target needs Target:SecondSubscriptionKey for this scenario (a subscription no other scenario uses)");
        // A subscription no other test of this class uses: its tokens in the last minute are this test's alone.
        const string Plain = """{"model":"gpt-4o","input":"Count my tokens","max_output_tokens":5}""";
        var (before, first) = await PostAsync(Plain);
        var (_, stream) = await PostAsync("""{"model":"gpt-4o","input":"Stream ten tokens","max_output_tokens":10,"stream":true}""");
        var (after, _) = await PostAsync(Plain);

        var firstTotal = JsonDocument.Parse(first).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
        // The stream ends with response.incomplete here (max_output_tokens cuts it), which carries the usage as
        // response.completed does.
        var completed = stream.Split('\n').Last(l => l.StartsWith("data: {", StringComparison.Ordinal) && l.Contains("\"usage\":{", StringComparison.Ordinal));
        var streamTotal = JsonDocument.Parse(completed["data: ".Length..]).RootElement.GetProperty("response").GetProperty("usage").GetProperty("total_tokens").GetInt32();

        // Each answer reports the tokens left once its own prompt estimate is charged; by the third call the first and
        // the stream count their actual usage, the stream's read from its last event as it passed.
        Assert.True(streamTotal > 10, $"stream usage {streamTotal}");
        Assert.Equal(firstTotal + streamTotal, before - after);
    }

    // Nested objects through $defs, an enum, an array and a nullable field: what an SDK's structured output declares.
    private const string OrderSchema = """{"type":"object","properties":{"customer":{"$ref":"#/$defs/customer"},"lines":{"type":"array","items":{"$ref":"#/$defs/line"}},"status":{"type":"string","enum":["open","shipped","cancelled"]},"note":{"type":["string","null"]}},"required":["customer","lines","status","note"],"additionalProperties":false,"$defs":{"customer":{"type":"object","properties":{"name":{"type":"string"},"vip":{"type":"boolean"}},"required":["name","vip"],"additionalProperties":false},"line":{"type":"object","properties":{"sku":{"type":"string"},"quantity":{"type":"integer"}},"required":["sku","quantity"],"additionalProperties":false}}}""";

    [SkippableFact]
    public async Task StructuredOutput_ChatJsonSchema_ParsesIntoTheSchemasShape()
    {
        var chat = Client(app.Key).GetChatClient("gpt-4o");
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("order", BinaryData.FromString(OrderSchema), jsonSchemaIsStrict: true),
        };

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Summarise the order.")], options).WaitAsync(Timeout);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        AssertIsAnOrder(completion.Content[0].Text);
    }

    [SkippableFact]
    public async Task StructuredOutput_ResponsesJsonSchema_ParsesIntoTheSchemasShape()
    {
        var responses = Client(app.Key).GetResponsesClient();
        var options = new CreateResponseOptions
        {
            Model = "gpt-4o",
            InputItems = { ResponseItem.CreateUserMessageItem("Summarise the order.") },
            TextOptions = new ResponseTextOptions
            {
                TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("order", BinaryData.FromString(OrderSchema), jsonSchemaIsStrict: true),
            },
        };

        ResponseResult response = await responses.CreateResponseAsync(options).WaitAsync(Timeout);

        AssertIsAnOrder(response.GetOutputText());
    }

    private static void AssertIsAnOrder(string json)
    {
        var order = JsonDocument.Parse(json).RootElement;
        Assert.Equal(OrderFields, order.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, order.GetProperty("customer").GetProperty("name").ValueKind);
        Assert.True(order.GetProperty("customer").GetProperty("vip").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.All(order.GetProperty("lines").EnumerateArray(), line =>
        {
            Assert.Equal(JsonValueKind.String, line.GetProperty("sku").ValueKind);
            Assert.True(line.GetProperty("quantity").TryGetInt64(out _), line.GetRawText());
        });
        Assert.Contains(order.GetProperty("status").GetString(), OrderStatuses);
        Assert.True(order.GetProperty("note").ValueKind is JsonValueKind.String or JsonValueKind.Null);
    }

    private async Task<(int Remaining, string Body)> PostAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/v1/responses")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", app.SecondKey!);
        using var response = await app.Http.SendAsync(request).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return (int.Parse(response.Headers.GetValues("x-gateway-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture), text);
    }

    private static async Task<string> StreamedTurnAsync(ResponsesClient responses, string input, string? previousResponseId)
    {
        using var cancellation = new CancellationTokenSource(Timeout);
        await foreach (var update in (await responses.CreateResponseStreamingAsync("gpt-4o", input, previousResponseId, cancellation.Token)).WithCancellation(cancellation.Token))
        {
            if (update is StreamingResponseCompletedUpdate done)
            {
                return done.Response.Id;
            }
        }

        throw new InvalidOperationException("the stream ended without response.completed");
    }

    /// <summary>The client as the README shows it: the v1 endpoint, the key in <c>api-key</c>, no retries unless asked.</summary>
    private OpenAIClient Client(string key, int retries = 0)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(app.GatewayUrl, "/openai/v1/"),
            RetryPolicy = new ClientRetryPolicy(retries),
            NetworkTimeout = Timeout,
        };
        options.AddPolicy(new ApiKeyHeaderPolicy(key), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential(key), options);
    }
}
