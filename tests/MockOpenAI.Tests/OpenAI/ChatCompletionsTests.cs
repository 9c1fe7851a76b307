using System.Text.Json;
using MockOpenAI.OpenAI;
using MockOpenAI.Tests.Support;
using TokenCounting;

namespace MockOpenAI.Tests.OpenAI;

public class ChatCompletionsTests
{
    [Fact]
    public void Chunks_StreamWithUsage_FollowAzureOrderAndShareOneId()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"hello there"}],"stream":true,"max_tokens":4,"stream_options":{"include_usage":true}}""");

        var events = ChatCompletions.Chunks("chatcmpl-1", 100, "gpt-4o-2024-11-20", request).Select(c => c.Event).ToList();

        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.All(events, e => Assert.EndsWith("\n\n", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]\n\n", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.Equal(1 + 1 + 4 + 1 + 1, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("chatcmpl-1", c.GetProperty("id").GetString()));
        Assert.Equal(0, chunks[0].GetProperty("choices").GetArrayLength());
        Assert.True(chunks[0].TryGetProperty("prompt_filter_results", out _));
        Assert.Equal("assistant", chunks[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, chunks[2].GetProperty("usage").ValueKind);
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(4, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public void Parse_MaxTokens_NeverExceededAndFinishReasonFollows()
    {
        Assert.Equal(3, Parse("""{"messages":[{"role":"user","content":"x"}],"max_tokens":3}""").Choices[0].Pieces.Count);
        Assert.Equal("length", Parse("""{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":3}""").Choices[0].FinishReason);
        Assert.Equal("stop", Parse("""{"messages":[{"role":"user","content":"x"}]}""").Choices[0].FinishReason);
    }

    [Fact]
    public void Parse_SameRequest_SameContent()
    {
        const string body = """{"messages":[{"role":"user","content":"same"}]}""";

        Assert.Equal(Parse(body).Choices[0].Pieces, Parse(body).Choices[0].Pieces);
    }

    [Fact]
    public void Parse_N_GivesThatManyDifferentChoicesAndChargesEach()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"x"}],"n":3,"max_tokens":4}""");

        Assert.Equal(3, request.Choices.Count);
        Assert.Equal(3, request.Choices.Select(c => c.Text).Distinct().Count());
        Assert.Equal(12, request.CompletionTokens);
        Assert.Equal(request.PromptTokens + (3 * 4), request.EstimatedTokens);
    }

    [Theory]
    [InlineData(" every", "Azure answers", 2)]
    [InlineData("swe", "Azure an", 2)]
    [InlineData("Azure", "", 0)]
    public void Create_StopSequence_CutsBeforeItsFirstOccurrenceWithFinishReasonStop(string stop, string text, int tokens)
    {
        var choice = GeneratedChoice.Create(["Azure", " answers", " every", " request"], ["never-there", stop], "length", TokenCounter.ForModel("gpt-4o"));

        Assert.Equal(text, choice.Text);
        Assert.Equal(tokens, choice.Tokens);
        Assert.Equal("stop", choice.FinishReason);
    }

    [Fact]
    public void Create_NoStopSequenceFound_KeepsEverythingAndTheFinishReason()
    {
        var choice = GeneratedChoice.Create(["Azure", " answers"], ["zzz"], "length", TokenCounter.ForModel("gpt-4o"));

        Assert.Equal("Azure answers", choice.Text);
        Assert.Equal("length", choice.FinishReason);
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"n":129}""", "n")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"n":0}""", "n")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"stop":5}""", "stop")]
    public void Parse_InvalidNOrStop_IsBadRequestNamingTheParameter(string json, string param)
    {
        Assert.Equal(param, Assert.Throws<BadRequestException>(() => Parse(json)).Param);
    }

    [Fact]
    public void Chunks_TwoChoices_InterleaveAndFinishEach()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"x"}],"n":2,"max_tokens":2,"stream":true}""");

        var chunks = ChatCompletions.Chunks("id", 1, "m", request).ToList();

        // Prompt filter, 2 roles, 2 x 2 pieces, 2 finishes, [DONE].
        Assert.Equal(10, chunks.Count);
        Assert.Equal(
            [ChunkKind.PromptFilter, ChunkKind.Role, ChunkKind.OtherChoice, ChunkKind.Content, ChunkKind.OtherChoice, ChunkKind.Content, ChunkKind.OtherChoice, ChunkKind.Finish, ChunkKind.Finish, ChunkKind.Done],
            chunks.Select(c => c.Kind));
    }

    private const string WeatherTools = """
        "tools":[
          {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
            "location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["location"]}}},
          {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}}
        ]
        """;

    [Fact]
    public void Completion_ToolChoiceRequired_CallsTheFirstToolWithArgumentsOfTheSchema()
    {
        var request = Parse($$"""{"messages":[{"role":"user","content":"weather?"}],{{WeatherTools}},"tool_choice":"required"}""");

        var body = JsonDocument.Parse(ChatCompletions.Completion("id", 1, "m", request)).RootElement;
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = message.GetProperty("tool_calls")[0];
        Assert.StartsWith("call_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).RootElement;
        Assert.Equal(JsonValueKind.String, arguments.GetProperty("location").ValueKind);
        Assert.True(arguments.GetProperty("unit").GetString() is "celsius" or "fahrenheit");
        Assert.Equal(JsonValueKind.Number, arguments.GetProperty("days").ValueKind);
        Assert.Equal(request.CompletionTokens, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public void Parse_NamedToolChoice_CallsThatTool()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"time?"}],""" + WeatherTools + ""","tool_choice":{"type":"function","function":{"name":"get_time"}}}""");

        Assert.Equal("get_time", request.Choices[0].Call!.Name);
    }

    [Theory]
    [InlineData("\"auto\"")]
    [InlineData("\"none\"")]
    public void Parse_ToolChoiceAutoOrNone_AnswersInText(string toolChoice)
    {
        var request = Parse($$"""{"messages":[{"role":"user","content":"weather?"}],{{WeatherTools}},"tool_choice":{{toolChoice}}}""");

        Assert.Null(request.Choices[0].Call);
        Assert.NotEmpty(request.Choices[0].Text);
    }

    [Fact]
    public void Parse_ToolCallLongerThanTheLimit_IsCutWithFinishReasonLength()
    {
        var request = Parse($$"""{"messages":[{"role":"user","content":"weather?"}],{{WeatherTools}},"tool_choice":"required","max_tokens":5}""");

        Assert.True(request.CompletionTokens <= 5);
        Assert.Equal("length", request.Choices[0].FinishReason);
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}""")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}""")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"sometimes"}""")]
    public void Parse_InvalidToolChoice_IsBadRequest(string json)
    {
        Assert.Equal("tool_choice", Assert.Throws<BadRequestException>(() => Parse(json)).Param);
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"max_tokens":2147483647}""", "max_tokens")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":1048577}""", "max_completion_tokens")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tools":[1],"tool_choice":"required"}""", "tools")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"function":"a"}}""", "tool_choice")]
    public void Parse_OutOfRangeOrMalformed_IsBadRequestNamingTheParameter(string json, string param)
    {
        Assert.Equal(param, Assert.Throws<BadRequestException>(() => Parse(json)).Param);
    }

    [Fact]
    public void Parse_ToolWithPropertyThatIsNotASchema_GivesItNull()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"odd":1}}}}],"tool_choice":"required"}""");

        Assert.Equal("""{"odd":null}""", request.Choices[0].Call!.Arguments);
    }

    [Fact]
    public void Parse_ToolChoiceNullWithTools_IsUnset()
    {
        Assert.Null(Parse("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":null}""").Choices[0].Call);
    }

    [Fact]
    public void Parse_ToolCallLongerThanATinyLimit_ReportsNoMoreThanTheLimit()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"get_current_weather_for_location"}}],"tool_choice":"required","max_tokens":1}""");

        Assert.Equal(1, request.CompletionTokens);
    }

    [Fact]
    public void Chunks_FirstChoiceCutShort_TheLongerChoiceKeepsThePace()
    {
        var tokens = TokenCounter.ForModel("gpt-4o");
        var request = new GenerationRequest(
            1,
            16,
            [GeneratedChoice.Create(["Azure"], [], "stop", tokens), GeneratedChoice.Create(["Azure", " answers", " every"], [], "stop", tokens)],
            Stream: true,
            IncludeUsage: false);

        var kinds = ChatCompletions.Chunks("id", 1, "m", request).Select(c => c.Kind);

        Assert.Equal(
            [ChunkKind.PromptFilter, ChunkKind.Role, ChunkKind.OtherChoice, ChunkKind.Content, ChunkKind.OtherChoice, ChunkKind.Content, ChunkKind.Content, ChunkKind.Finish, ChunkKind.Finish, ChunkKind.Done],
            kinds);
    }

    [Fact]
    public void Parse_CompletionsWithTwoPrompts_GivesNChoicesForEach()
    {
        const string json = """{"prompt":["a","b"],"n":2,"max_tokens":2}""";
        using var body = JsonDocument.Parse(json);

        Assert.Equal(4, Completions.Parse(body.RootElement, json, TokenCounter.ForModel("gpt-35-turbo-instruct")).Choices.Count);
    }

    [Fact]
    public void Parse_Responses_IgnoresNAndStop()
    {
        const string json = """{"input":"a","n":3,"stop":"zzz","max_output_tokens":2}""";
        using var body = JsonDocument.Parse(json);

        Assert.Single(Responses.Parse(body.RootElement, json, TokenCounter.ForModel("gpt-4o"), [], () => "1").Generation.Choices);
    }

    [Fact]
    public void Parse_NoMessages_IsBadRequestNamingTheParameter()
    {
        var error = Assert.Throws<BadRequestException>(() => Parse("""{"messages":[]}"""));

        Assert.Equal("messages", error.Param);
    }

    [Fact]
    public void Create_Embeddings_AreUnitLengthOfTheRequestedDimension()
    {
        using var body = JsonDocument.Parse("""{"input":["a","b"],"dimensions":256}""");

        var result = JsonDocument.Parse(Embeddings.Render(Embeddings.Parse(body.RootElement, 1536, TokenCounter.ForModel("text-embedding-3-small")), "text-embedding-3-small")).RootElement;

        var vectors = result.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToList();
        Assert.Equal(2, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(256, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 4));
        Assert.NotEqual(vectors[0], vectors[1]);
    }

    [Theory]
    [InlineData("""{"input":"a","encoding_format":1}""")]
    [InlineData("""{"input":"a","encoding_format":"hex"}""")]
    [InlineData("""{"input":[]}""")]
    [InlineData("""{"input":"a","dimensions":4096}""")]
    public void Create_InvalidEmbeddingsRequest_IsBadRequest(string json)
    {
        using var body = JsonDocument.Parse(json);

        Assert.Throws<BadRequestException>(() => Embeddings.Parse(body.RootElement, 1536, TokenCounter.ForModel("text-embedding-3-small")));
    }

    private const string EventSchema = """
        {"type":"object","properties":{"name":{"type":"string"},"date":{"type":"string","format":"date"},
         "participants":{"type":"array","items":{"$ref":"#/$defs/person"},"minItems":1},"kind":{"type":"string","enum":["fair","talk"]}},
         "required":["name","date","participants","kind"],"additionalProperties":false,
         "$defs":{"person":{"type":"object","properties":{"name":{"type":"string"},"email":{"type":["string","null"],"format":"email"}},"required":["name","email"],"additionalProperties":false}}}
        """;

    private static string SchemaFormat(string extra = "") =>
        """{"messages":[{"role":"user","content":"Alice and Bob go to a science fair on Friday."}],"response_format":{"type":"json_schema","json_schema":{"name":"event","strict":true,"schema":""" + EventSchema + """}}""" + extra + """}""";

    [Fact]
    public void Parse_JsonSchema_EachChoiceValidatesAndCostsItsTokens()
    {
        var tokens = TokenCounter.ForModel("gpt-4o");

        var request = Parse(SchemaFormat(""","n":2"""));

        Assert.Equal(2, request.Choices.Count);
        Assert.NotEqual(request.Choices[0].Text, request.Choices[1].Text);
        Assert.All(request.Choices, c => SchemaAssert.Valid(EventSchema, c.Text));
        Assert.All(request.Choices, c => Assert.Equal("stop", c.FinishReason));
        Assert.All(request.Choices, c => Assert.Equal(tokens.Count(c.Text), c.Tokens));
        Assert.All(request.Choices, c => Assert.Equal(c.Tokens, c.Pieces.Count));
        Assert.Equal(Parse(SchemaFormat()).Choices[0].Text, Parse(SchemaFormat()).Choices[0].Text);
    }

    [Fact]
    public void Parse_JsonSchemaLongerThanMaxTokens_IsCutJsonWithFinishReasonLength()
    {
        var cut = Parse(SchemaFormat(""","max_tokens":5""")).Choices[0];

        Assert.Equal("length", cut.FinishReason);
        Assert.Equal(5, cut.Tokens);
        Assert.StartsWith("{\"name\":\"", cut.Text, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(cut.Text));
    }

    [Fact]
    public void ForJson_OverTheLimit_KeepsTheFirstTokensExactly()
    {
        const string json = """{"name":"Azure answers every request","count":12,"done":true}""";
        var tokens = TokenCounter.ForModel("gpt-4o");

        var whole = GeneratedChoice.ForJson(json, null, [], tokens);
        var cut = GeneratedChoice.ForJson(json, 6, [], tokens);

        Assert.Equal(json, whole.Text);
        Assert.Equal("stop", whole.FinishReason);
        Assert.Equal(tokens.Count(json), whole.Tokens);
        Assert.Equal(string.Concat(whole.Pieces.Take(6)), cut.Text);
        Assert.Equal(6, cut.Tokens);
        Assert.Equal("length", cut.FinishReason);
    }

    [Fact]
    public void Chunks_JsonSchemaStreamed_DeltasJoinIntoTheJson()
    {
        var request = Parse(SchemaFormat(""","stream":true"""));

        var deltas = ChatCompletions.Chunks("id", 1, "m", request)
            .Where(c => c.Kind == ChunkKind.Content)
            .Select(c => JsonDocument.Parse(c.Event["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString())
            .ToList();

        Assert.Equal(request.Choices[0].Tokens, deltas.Count);
        SchemaAssert.Valid(EventSchema, string.Concat(deltas));
        Assert.Equal(request.Choices[0].Text, string.Concat(deltas));
    }

    [Fact]
    public void Parse_ToolWithNestedStrictSchema_ArgumentsValidate()
    {
        var tools = """[{"type":"function","function":{"name":"plan","strict":true,"parameters":""" + EventSchema + """}}]""";

        for (var attempt = 0; attempt < 10; attempt++)
        {
            var request = Parse($$"""{"messages":[{"role":"user","content":"plan {{attempt}}"}],"tools":{{tools}},"tool_choice":"required"}""");

            var call = request.Choices[0].Call!;
            Assert.Equal("tool_calls", request.Choices[0].FinishReason);
            SchemaAssert.Valid(EventSchema, call.Arguments);
        }
    }

    [Fact]
    public void Parse_StrictToolWithRelaxedSchema_IsTheServicesBadRequest()
    {
        const string tools = """
            [{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{}}}},
             {"type":"function","function":{"name":"get_tables","strict":true,"parameters":{"type":"object","properties":{"schema":{"type":"string"}},"additionalProperties":false}}}]
            """;

        var error = Assert.Throws<BadRequestException>(() => Parse($$"""{"messages":[{"role":"user","content":"x"}],"tools":{{tools}}}"""));

        Assert.Equal("Invalid schema for function 'get_tables': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'schema'.", error.Message);
        Assert.Equal("tools[1].function.parameters", error.Param);
        Assert.Equal("invalid_function_parameters", error.Code);
    }

    [Fact]
    public void Parse_ToolCallWithoutALimit_IsNotCutAtTheTextDefault()
    {
        var request = Parse("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"plan","parameters":""" + EventSchema + """}}],"tool_choice":"required"}""");

        Assert.True(request.CompletionTokens > GenerationRequest.DefaultCompletionTokens);
        Assert.Equal("tool_calls", request.Choices[0].FinishReason);
    }

    private static GenerationRequest Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ChatCompletions.Parse(document.RootElement, json, TokenCounter.ForModel("gpt-4o"));
    }
}
