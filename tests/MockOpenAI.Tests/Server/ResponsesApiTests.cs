using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using MockOpenAI.OpenAI;
using MockOpenAI.Tests.Support;
using TokenCounting;

namespace MockOpenAI.Tests.Server;

/// <summary>The Responses API of one mock account (and, where it matters, a second one), on a fake clock, over real HTTP.</summary>
public sealed class ResponsesApiTests : IAsyncLifetime
{
    private const string V1 = "/openai/v1/responses";
    private const string Versioned = "/openai/responses";
    private const string ApiVersion = "api-version=2025-04-01-preview";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private LoopbackAccount _account = null!;

    public async Task InitializeAsync() => _account = await LoopbackAccount.StartAsync(_time, AccountOptions());

    public async Task DisposeAsync() => await _account.DisposeAsync();

    [Fact]
    public async Task Stream_CutByMaxOutputTokens_MatchesTheGoldenFile()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"golden","max_output_tokens":2,"stream":true}""");

        var shape = OpenAI.StreamShape.Of(await ReadAsync(response));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "OpenAI", "Golden", "responses-stream-incomplete.txt")).WaitAsync(TestTimeouts.Request), shape);
    }

    [Fact]
    public async Task Stream_Completed_OneDeltaPerTokenThenTheWholeResponseWithUsage()
    {
        using var plain = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Hello!"}""");
        using var response = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Hello!","stream":true}""");

        var events = Events(await ReadAsync(response));

        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        Assert.All(events, e => Assert.Equal(e.Name, e.Data.GetProperty("type").GetString()));
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"],
            events.Take(4).Select(e => e.Name));
        var deltas = events.Where(e => e.Name == "response.output_text.delta").ToList();
        Assert.Equal(GenerationRequest.DefaultCompletionTokens, deltas.Count);
        Assert.Equal(
            ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            events.Skip(4 + deltas.Count).Select(e => e.Name));
        var text = events[^4].Data.GetProperty("text").GetString();
        Assert.Equal(string.Concat(deltas.Select(d => d.Data.GetProperty("delta").GetString())), text);
        var completed = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(text, completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var itemId = completed.GetProperty("output")[0].GetProperty("id").GetString();
        Assert.StartsWith("msg_", itemId, StringComparison.Ordinal);
        Assert.All(deltas, d => Assert.Equal(itemId, d.Data.GetProperty("item_id").GetString()));
        var expectedUsage = Json(await ReadAsync(plain)).GetProperty("usage");
        Assert.Equal(expectedUsage.GetProperty("input_tokens").GetInt32(), completed.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(GenerationRequest.DefaultCompletionTokens, completed.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, events[0].Data.GetProperty("response").GetProperty("usage").ValueKind);
    }

    [Fact]
    public async Task Stream_Paced_FirstDeltaAfterTimeToFirstToken_ThenOnePerTokenTime()
    {
        // gpt-4o-paced: 500 ms to the first token, 50 ms a further token; 3 tokens.
        using var response = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o-paced","input":"stream","max_output_tokens":3,"stream":true}""", completion: HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(TestTimeouts.Request));

        Assert.StartsWith("event: response.created\n", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.StartsWith("event: response.in_progress\n", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        var added = NextEventAsync(reader);
        await AssertWaitsForAsync(added, TimeSpan.FromMilliseconds(499));
        Assert.StartsWith("event: response.output_item.added\n", await added.WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.StartsWith("event: response.content_part.added\n", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.StartsWith("event: response.output_text.delta\n", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        for (var token = 2; token <= 3; token++)
        {
            var next = NextEventAsync(reader);
            await AssertWaitsForAsync(next, TimeSpan.FromMilliseconds(49));
            Assert.StartsWith("event: response.output_text.delta\n", await next.WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        }

        foreach (var name in new[] { "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete" })
        {
            Assert.StartsWith($"event: {name}\n", await NextEventAsync(reader).WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        }

        Assert.Null(await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request));
    }

    [Fact]
    public async Task Stream_OverTheCallRate_Is429NamingTheResponsesOperation()
    {
        // gpt-4o-quota, capacity 2: two requests in any 10 seconds, streamed or not.
        using var first = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o-quota","input":"x","max_output_tokens":5,"stream":true}""");
        using var second = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o-quota","input":"x","max_output_tokens":5,"stream":true}""");
        using var third = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o-quota","input":"x","max_output_tokens":5,"stream":true}""");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Contains("Requests to the Responses_Create Operation under Azure OpenAI API version v1 have exceeded call rate limit", await ReadAsync(third), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Versioned_Create_TakesTheDeploymentFromModel()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, $"{Versioned}?{ApiVersion}", """{"model":"gpt-4o","input":"Hello!","max_output_tokens":3}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = Json(await ReadAsync(response));
        Assert.Equal("response", body.GetProperty("object").GetString());
        Assert.Equal("gpt-4o-2024-11-20", body.GetProperty("model").GetString());
        Assert.Equal(3, body.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Theory]
    [InlineData(Versioned, 404, """{"error":{"code":"404","message": "Resource not found"}}""")]
    [InlineData(Versioned + "?api-version=2023-11-06-preview", 400, """{"error":{"code":"BadRequest","message":"API version not supported"}}""")]
    [InlineData(Versioned + "?api-version=v1", 400, """{"error":{"code":"BadRequest","message":"API version not supported"}}""")]
    [InlineData(V1 + "?api-version=2020-01-01", 400, """{"error":{"code":"BadRequest","message":"API version not supported"}}""")]
    public async Task ApiVersion_MissingOrUnknown_IsRefusedAsAzureDoes(string path, int status, string expected)
    {
        using var response = await _account.SendAsync(HttpMethod.Post, path, """{"model":"gpt-4o","input":"x"}""");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(expected, await ReadAsync(response));
    }

    [Fact]
    public async Task Stored_GetInputItemsAndDelete_OnBothRouteFamilies()
    {
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Remember me.","max_output_tokens":3,"metadata":{"case":"stored"}}""");
        var body = await ReadAsync(created);
        var id = Json(body).GetProperty("id").GetString()!;
        Assert.True(Json(body).GetProperty("store").GetBoolean());

        using var viaV1 = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}");
        using var viaVersion = await _account.SendAsync(HttpMethod.Get, $"{Versioned}/{id}?{ApiVersion}");
        using var items = await _account.SendAsync(HttpMethod.Get, $"{Versioned}/{id}/input_items?{ApiVersion}");
        using var deleted = await _account.SendAsync(HttpMethod.Delete, $"{Versioned}/{id}?{ApiVersion}");
        using var gone = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}");
        using var deletedTwice = await _account.SendAsync(HttpMethod.Delete, $"{V1}/{id}");
        using var itemsGone = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}/input_items");

        Assert.Equal(body, await ReadAsync(viaV1));
        Assert.Equal(body, await ReadAsync(viaVersion));
        var list = Json(await ReadAsync(items));
        Assert.Equal("list", list.GetProperty("object").GetString());
        var item = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal("message", item.GetProperty("type").GetString());
        Assert.Equal("user", item.GetProperty("role").GetString());
        Assert.Equal("""[{"type":"input_text","text":"Remember me."}]""", item.GetProperty("content").GetRawText());
        Assert.StartsWith("msg_", item.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(item.GetProperty("id").GetString(), list.GetProperty("first_id").GetString());
        Assert.Equal(item.GetProperty("id").GetString(), list.GetProperty("last_id").GetString());
        Assert.False(list.GetProperty("has_more").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal($$"""{"id":"{{id}}","object":"response.deleted","deleted":true}""", await ReadAsync(deleted));
        var notFound = $$$"""{"error":{"message":"Response with id '{{{id}}}' not found.","type":"invalid_request_error","param":null,"code":null}}""";
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(notFound, await ReadAsync(gone));
        Assert.Equal(HttpStatusCode.NotFound, deletedTwice.StatusCode);
        Assert.Equal(notFound, await ReadAsync(deletedTwice));
        Assert.Equal(HttpStatusCode.NotFound, itemsGone.StatusCode);
    }

    [Fact]
    public async Task Stored_StreamedTurn_IsReadableAsTheCompletedResponse()
    {
        using var streamed = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"stream and keep","max_output_tokens":2,"stream":true}""");
        var final = Events(await ReadAsync(streamed))[^1].Data.GetProperty("response");

        using var stored = await _account.SendAsync(HttpMethod.Get, $"{V1}/{final.GetProperty("id").GetString()}");

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(final.GetRawText(), await ReadAsync(stored));
    }

    [Fact]
    public async Task Store_False_IsNeitherReadableNorChainable()
    {
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"forget me","store":false}""");
        var body = Json(await ReadAsync(created));
        var id = body.GetProperty("id").GetString()!;

        using var read = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}");
        using var chained = await _account.SendAsync(HttpMethod.Post, V1, $$"""{"model":"gpt-4o","input":"and now?","previous_response_id":"{{id}}"}""");

        Assert.False(body.GetProperty("store").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, chained.StatusCode);
        Assert.Equal(0, _account.Responses.Count);
    }

    [Fact]
    public async Task PreviousResponseId_Unknown_Is400WithOpenAIsBody()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, $"{Versioned}?{ApiVersion}", """{"model":"gpt-4o","input":"x","previous_response_id":"resp_nope"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            """{"error":{"message":"Previous response with id 'resp_nope' not found.","type":"invalid_request_error","param":"previous_response_id","code":"previous_response_not_found"}}""",
            await ReadAsync(response));
    }

    [Fact]
    public async Task PreviousResponseId_Chained_EarlierTurnsCountAsInputTokens()
    {
        using var first = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Hello!","max_output_tokens":4}""");
        var turn1 = Json(await ReadAsync(first));
        using var alone = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"And again?","max_output_tokens":4}""");
        using var chained = await _account.SendAsync(HttpMethod.Post, V1, $$"""{"model":"gpt-4o","input":"And again?","max_output_tokens":4,"previous_response_id":"{{turn1.GetProperty("id").GetString()}}"}""");
        var turn2 = Json(await ReadAsync(chained));
        using var thirdAlone = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Once more.","max_output_tokens":4}""");
        using var third = await _account.SendAsync(HttpMethod.Post, V1, $$"""{"model":"gpt-4o","input":"Once more.","max_output_tokens":4,"previous_response_id":"{{turn2.GetProperty("id").GetString()}}"}""");

        // An earlier turn costs its input without the reply priming (3), then its reply as a message: framing (3),
        // "assistant", and the reply's words.
        var reply = TokenCounter.TokensPerMessage + TokenCounter.ForModel("gpt-4o").Count("assistant");
        var firstTurn = Input(turn1) - TokenCounter.ReplyPriming + reply + Output(turn1);
        var secondAlone = Input(Json(await ReadAsync(alone)));
        Assert.Equal(secondAlone + firstTurn, Input(turn2));
        Assert.Equal(turn1.GetProperty("id").GetString(), turn2.GetProperty("previous_response_id").GetString());

        // The third turn carries both earlier turns.
        var secondTurn = secondAlone - TokenCounter.ReplyPriming + reply + Output(turn2);
        Assert.Equal(Input(Json(await ReadAsync(thirdAlone))) + firstTurn + secondTurn, Input(Json(await ReadAsync(third))));
    }

    [Fact]
    public async Task Stored_AnotherAccount_AnswersNotFound()
    {
        await using var other = await LoopbackAccount.StartAsync(_time, AccountOptions());
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"mine"}""");
        var id = Json(await ReadAsync(created)).GetProperty("id").GetString()!;

        using var read = await other.SendAsync(HttpMethod.Get, $"{V1}/{id}");
        using var chained = await other.SendAsync(HttpMethod.Post, V1, $$"""{"model":"gpt-4o","input":"yours?","previous_response_id":"{{id}}"}""");
        using var own = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}");

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, chained.StatusCode);
        Assert.Contains("previous_response_not_found", await ReadAsync(chained), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task Stored_AfterThirtyDays_IsGone()
    {
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"short-lived"}""");
        var id = Json(await ReadAsync(created)).GetProperty("id").GetString()!;

        _time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        using var before = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}");
        _time.Advance(TimeSpan.FromSeconds(1));
        using var after = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("DELETE", "")]
    [InlineData("GET", "/input_items")]
    public async Task Stored_WithoutToken_Is401(string method, string suffix)
    {
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"guarded"}""");
        var id = Json(await ReadAsync(created)).GetProperty("id").GetString()!;

        using var response = await _account.SendAsync(new HttpMethod(method), $"{V1}/{id}{suffix}", authenticated: false);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, _account.Responses.Count);
    }

    [Theory]
    [InlineData("", "c,b,a", true)]
    [InlineData("?order=asc", "a,b,c", true)]
    [InlineData("?order=desc&limit=2", "c,b", true)]
    [InlineData("?order=asc&limit=2&after=id-a", "b,c", false)]
    [InlineData("?limit=100&after=id-c", "b,a", false)]
    public async Task InputItems_OrderLimitAndAfter_PageLikeOpenAI(string query, string expected, bool moreThanOnePage)
    {
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """
            {"model":"gpt-4o","input":[
              {"id":"id-a","role":"user","content":"a"},
              {"id":"id-b","type":"message","role":"assistant","content":"b"},
              {"id":"id-c","role":"user","content":[{"type":"input_text","text":"c"}]}]}
            """);
        var id = Json(await ReadAsync(created)).GetProperty("id").GetString()!;

        using var response = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}/input_items{query}");

        var list = Json(await ReadAsync(response));
        var texts = list.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(expected, string.Join(',', texts));
        Assert.Equal(moreThanOnePage && query.Contains("limit", StringComparison.Ordinal), list.GetProperty("has_more").GetBoolean());
        Assert.Equal("id-" + expected[0], list.GetProperty("first_id").GetString());
        Assert.Equal("id-" + expected[^1], list.GetProperty("last_id").GetString());
    }

    [Fact]
    public async Task InputItems_LimitOutOfRange_Is400NamingIt()
    {
        using var created = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"x"}""");
        var id = Json(await ReadAsync(created)).GetProperty("id").GetString()!;

        using var response = await _account.SendAsync(HttpMethod.Get, $"{V1}/{id}/input_items?limit=101");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"param\":\"limit\"", await ReadAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/openai/v1/models")]
    [InlineData("/openai/models?api-version=2024-10-21")]
    public async Task Models_ListTheDeploymentsModelsOnceWithTheirCapabilities(string path)
    {
        using var response = await _account.SendAsync(HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var list = Json(await ReadAsync(response));
        Assert.Equal("list", list.GetProperty("object").GetString());
        var models = list.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal(["gpt-35-turbo-instruct", "gpt-4o", "text-embedding-3-small"], models.Keys.Order(StringComparer.Ordinal));
        var gpt4o = models["gpt-4o"];
        Assert.Equal("model", gpt4o.GetProperty("object").GetString());
        Assert.Equal("succeeded", gpt4o.GetProperty("status").GetString());
        Assert.Equal("generally-available", gpt4o.GetProperty("lifecycle_status").GetString());
        Assert.Equal(new DateTimeOffset(2024, 11, 20, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), gpt4o.GetProperty("created_at").GetInt64());
        Assert.True(gpt4o.GetProperty("deprecation").GetProperty("inference").GetInt64() > gpt4o.GetProperty("created_at").GetInt64());
        Assert.Equal(
            """{"fine_tune":false,"inference":true,"completion":false,"chat_completion":true,"embeddings":false}""",
            gpt4o.GetProperty("capabilities").GetRawText());
        Assert.True(models["text-embedding-3-small"].GetProperty("capabilities").GetProperty("embeddings").GetBoolean());
        Assert.True(models["gpt-35-turbo-instruct"].GetProperty("capabilities").GetProperty("completion").GetBoolean());
    }

    [Theory]
    [InlineData("/openai/v1/models", false, 401)]
    [InlineData("/openai/models", true, 404)]
    public async Task Models_WithoutTokenOrApiVersion_IsRefused(string path, bool authenticated, int status)
    {
        using var response = await _account.SendAsync(HttpMethod.Get, path, authenticated: authenticated);

        Assert.Equal(status, (int)response.StatusCode);
    }

    private const string PointSchema = """{"type":"object","properties":{"x":{"type":"number"},"label":{"type":["string","null"]},"kind":{"type":"string","enum":["a","b"]}},"required":["x","label","kind"],"additionalProperties":false}""";

    [Fact]
    public async Task TextFormat_JsonSchema_OutputTextIsJsonOfTheSchema_AndTheFormatIsEchoed()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Where?","text":{"format":{"type":"json_schema","name":"point","strict":true,"schema":""" + PointSchema + """}}}""");

        var body = Json(await ReadAsync(response));
        var text = body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        SchemaAssert.Valid(PointSchema, text);
        Assert.Equal("completed", body.GetProperty("status").GetString());
        Assert.Equal(TokenCounter.ForModel("gpt-4o").Count(text), Output(body));
        Assert.Equal("point", body.GetProperty("text").GetProperty("format").GetProperty("name").GetString());
    }

    [Fact]
    public async Task TextFormat_JsonSchemaStreamed_DeltasJoinIntoJsonOfTheSchema()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, Versioned + "?" + ApiVersion, """{"model":"gpt-4o","input":"Where?","stream":true,"text":{"format":{"type":"json_schema","name":"point","strict":true,"schema":""" + PointSchema + """}}}""");

        var events = Events(await ReadAsync(response));
        var joined = string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => e.Data.GetProperty("delta").GetString()));

        SchemaAssert.Valid(PointSchema, joined);
        Assert.Equal("response.completed", events[^1].Name);
        Assert.Equal(joined, events[^1].Data.GetProperty("response").GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task TextFormat_NoneRequested_EchoesText()
    {
        using var response = await _account.SendAsync(HttpMethod.Post, V1, """{"model":"gpt-4o","input":"Hello!"}""");

        Assert.Equal("""{"type":"text"}""", Json(await ReadAsync(response)).GetProperty("text").GetProperty("format").GetRawText());
    }

    [Theory]
    [InlineData(
        """{"model":"gpt-4o","input":"Who won?","instructions":"Answer in JSON.","text":{"format":{"type":"json_object"}}}""",
        """{"error":{"message":"Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.","type":"invalid_request_error","param":"text.format","code":null}}""")]
    [InlineData(
        """{"model":"gpt-4o","input":"x","text":{"format":{"type":"json_schema","name":"p","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}}}}""",
        """{"error":{"message":"Invalid schema for response_format 'p': In context=(), 'additionalProperties' is required to be supplied and to be false.","type":"invalid_request_error","param":"text.format.schema","code":"invalid_json_schema"}}""")]
    public async Task TextFormat_TheServiceRefuses_Is400WithItsBody(string json, string expected)
    {
        using var response = await _account.SendAsync(HttpMethod.Post, V1, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, await ReadAsync(response));
    }

    private static MockOpenAIOptions AccountOptions()
    {
        var options = new MockOpenAIOptions { Account = "test", Region = "swedencentral" };
        options.Deployments["gpt-4o"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20" };
        options.Deployments["gpt-4o-quota"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20", Capacity = 2 };
        options.Deployments["gpt-4o-paced"] = new DeploymentOptions
        {
            Model = "gpt-4o",
            Version = "2024-11-20",
            Latency = new LatencyOptions { TimeToFirstToken = TimeSpan.FromMilliseconds(500), PerOutputToken = TimeSpan.FromMilliseconds(50) },
        };
        options.Deployments["gpt-35-turbo-instruct"] = new DeploymentOptions { Model = "gpt-35-turbo-instruct", Version = "0914" };
        options.Deployments["text-embedding-3-small"] = new DeploymentOptions { Model = "text-embedding-3-small", Version = "1" };
        return options;
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

    /// <summary>The next event's lines (without the blank line that ends it).</summary>
    private static async Task<string> NextEventAsync(StreamReader reader)
    {
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0 && lines.Count > 0)
            {
                return string.Join('\n', lines);
            }

            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }

        throw new EndOfStreamException();
    }

    private static List<(string Name, JsonElement Data)> Events(string stream) =>
        [.. stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            return (lines[0]["event: ".Length..], Json(lines[1]["data: ".Length..]));
        })];

    private static Task<string> ReadAsync(HttpResponseMessage response) => response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static int Input(JsonElement response) => response.GetProperty("usage").GetProperty("input_tokens").GetInt32();

    private static int Output(JsonElement response) => response.GetProperty("usage").GetProperty("output_tokens").GetInt32();
}
