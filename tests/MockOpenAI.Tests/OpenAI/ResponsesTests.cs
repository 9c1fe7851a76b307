using System.Text.Json;
using MockOpenAI.OpenAI;
using TokenCounting;

namespace MockOpenAI.Tests.OpenAI;

public class ResponsesTests
{
    private static readonly TokenCounter Tokens = TokenCounter.ForModel("gpt-4o");

    [Fact]
    public void Events_Stream_NamedEventsInOrderWithTheirPacing()
    {
        var request = Parse("""{"input":"hello","max_output_tokens":3,"stream":true}""");

        var events = Responses.Events(request, "resp_1", "msg_1", 100, "gpt-4o-2024-11-20").ToList();

        Assert.Equal(
            [ChunkKind.Preamble, ChunkKind.Preamble, ChunkKind.Role, ChunkKind.OtherChoice, ChunkKind.Content, ChunkKind.Content, ChunkKind.Content, ChunkKind.Finish, ChunkKind.Finish, ChunkKind.Finish, ChunkKind.Done],
            events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Matches("^event: [a-z._]+\ndata: \\{.*\\}\n\n$", e.Event));
        Assert.DoesNotContain(events, e => e.Event.Contains("[DONE]", StringComparison.Ordinal));
        Assert.StartsWith("event: response.incomplete\n", events[^1].Event, StringComparison.Ordinal);
        var final = Data(events[^1].Event).GetProperty("response");
        Assert.Equal("incomplete", final.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", final.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal("incomplete", final.GetProperty("output")[0].GetProperty("status").GetString());
        Assert.Equal(10, Data(events[^1].Event).GetProperty("sequence_number").GetInt32());
    }

    [Fact]
    public void Events_IncludeObfuscationFalse_LeavesTheDeltasUnpadded()
    {
        var padded = Responses.Events(Parse("""{"input":"x","max_output_tokens":2,"stream":true}"""), "resp_1", "msg_1", 1, "m").ToList();
        var plain = Responses.Events(Parse("""{"input":"x","max_output_tokens":2,"stream":true,"stream_options":{"include_obfuscation":false}}"""), "resp_1", "msg_1", 1, "m").ToList();

        Assert.All(padded.Where(e => e.Kind == ChunkKind.Content), e => Assert.NotEmpty(Data(e.Event).GetProperty("obfuscation").GetString()!));
        Assert.All(plain.Where(e => e.Kind == ChunkKind.Content), e => Assert.False(Data(e.Event).TryGetProperty("obfuscation", out _)));
    }

    [Fact]
    public void Completed_WithinTheLimit_IsCompletedWithUsageAndEchoesTheRequest()
    {
        var request = Parse("""{"input":"hi","instructions":"Be brief.","temperature":0.5,"user":"u1","metadata":{"k":"v"}}""");

        var response = JsonDocument.Parse(Responses.Completed(request, "resp_1", "msg_1", 7, "m").ToJsonString()).RootElement;

        Assert.Equal("completed", response.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("incomplete_details").ValueKind);
        Assert.Equal("Be brief.", response.GetProperty("instructions").GetString());
        Assert.Equal(0.5, response.GetProperty("temperature").GetDouble());
        Assert.Equal("u1", response.GetProperty("user").GetString());
        Assert.Equal("v", response.GetProperty("metadata").GetProperty("k").GetString());
        Assert.True(response.GetProperty("store").GetBoolean());
        Assert.Equal(GenerationRequest.DefaultCompletionTokens, response.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal(request.Generation.PromptTokens + GenerationRequest.DefaultCompletionTokens, response.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void Parse_History_CountsAsInputTokens()
    {
        using var history = JsonDocument.Parse("""
            [{"type":"message","id":"msg_a","status":"completed","role":"user","content":[{"type":"input_text","text":"Hello!"}]},
             {"id":"msg_b","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Azure answers"}],"role":"assistant"}]
            """);

        var alone = Parse("""{"input":"Again"}""");
        var chained = Responses.Parse(Body("""{"input":"Again"}"""), """{"input":"Again"}""", Tokens, [.. history.RootElement.EnumerateArray()], () => "1");

        // Two more messages: framing (3) + "user" + "Hello|!", framing (3) + "assistant" + "Azure| answers".
        Assert.Equal(alone.Generation.PromptTokens + (3 + 1 + 2) + (3 + Tokens.Count("assistant") + 2), chained.Generation.PromptTokens);
    }

    [Fact]
    public void Parse_Input_BecomesItemResourcesWithIds()
    {
        var ids = new Queue<string>(["1", "2"]);
        const string json = """{"input":[{"role":"user","content":"a"},{"type":"message","role":"assistant","content":"b","id":"mine"},{"type":"function_call_output","call_id":"c","output":"{}"}]}""";

        var request = Responses.Parse(Body(json), json, Tokens, [], ids.Dequeue);

        Assert.Equal(
            """[{"type":"message","id":"msg_1","status":"completed","role":"user","content":[{"type":"input_text","text":"a"}]},{"type":"message","id":"mine","status":"completed","role":"assistant","content":[{"type":"output_text","text":"b"}]},{"type":"function_call_output","call_id":"c","output":"{}","id":"item_2"}]""",
            "[" + string.Join(',', request.InputItems.Select(i => i.ToJsonString())) + "]");
    }

    [Theory]
    [InlineData("""{"input":"x","store":false}""", false)]
    [InlineData("""{"input":"x","store":null}""", true)]
    [InlineData("""{"input":"x"}""", true)]
    public void Parse_Store_DefaultsToTrue(string json, bool expected)
    {
        Assert.Equal(expected, Parse(json).Store);
    }

    [Theory]
    [InlineData("""{"input":"x","store":1}""", "store")]
    [InlineData("""{"input":"x","temperature":3}""", "temperature")]
    [InlineData("""{"input":"x","previous_response_id":""}""", "previous_response_id")]
    [InlineData("""{"input":[1]}""", "input")]
    [InlineData("""{"input":5}""", "input")]
    public void Parse_Invalid_IsBadRequestNamingTheParameter(string json, string param)
    {
        Assert.Equal(param, Assert.Throws<BadRequestException>(() => Parse(json)).Param);
    }

    [Theory]
    [InlineData("up", null)]
    [InlineData(null, "0")]
    public void InputItemList_InvalidOrderOrLimit_IsBadRequest(string? order, string? limit)
    {
        Assert.Equal(order is null ? "limit" : "order", Assert.Throws<BadRequestException>(() => Responses.InputItemList([], order, limit, null)).Param);
    }

    [Fact]
    public void InputItemList_Empty_IsAListWithNullIds()
    {
        Assert.Equal("""{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}""", Responses.InputItemList([], null, null, null));
    }

    private static ResponsesRequest Parse(string json) => Responses.Parse(Body(json), json, Tokens, [], () => Guid.NewGuid().ToString("N"));

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement;

    private static JsonElement Data(string sse) => JsonDocument.Parse(sse[(sse.IndexOf("data: ", StringComparison.Ordinal) + "data: ".Length)..]).RootElement;
}
