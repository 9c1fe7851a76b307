using System.Text.Json;
using MockOpenAI.OpenAI;
using MockOpenAI.Tests.Support;
using TokenCounting;

namespace MockOpenAI.Tests.OpenAI;

public class OutputFormatTests
{
    private const string PersonSchema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""";

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"response_format":null}""")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}""")]
    public void FromChat_NoneOrText_IsText(string json)
    {
        Assert.Same(OutputFormat.Text, FromChat(json));
    }

    [Theory]
    [InlineData("""[{"role":"system","content":"Answer in JSON."},{"role":"user","content":"x"}]""")]
    [InlineData("""[{"role":"user","content":[{"type":"text","text":"give me json please"}]}]""")]
    public void FromChat_JsonObjectWithJsonMentioned_IsJsonObject(string messages)
    {
        var format = FromChat($$$"""{"messages":{{{messages}}},"response_format":{"type":"json_object"}}""");

        Assert.Equal(OutputFormatKind.JsonObject, format.Kind);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(format.Generate(1)!).RootElement.ValueKind);
    }

    [Fact]
    public void FromChat_JsonObjectWithoutJsonInMessages_IsTheServicesBadRequest()
    {
        var error = Assert.Throws<BadRequestException>(() => FromChat("""{"messages":[{"role":"user","content":"Who won?"}],"response_format":{"type":"json_object"}}"""));

        Assert.True(error.Exact);
        Assert.Equal("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", error.Message);
        Assert.Equal("messages", error.Param);
        Assert.Null(error.Code);
    }

    [Fact]
    public void FromChat_JsonSchema_ReadsTheNestedDefinition()
    {
        var format = FromChat("""{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":""" + PersonSchema + """}}}""");

        Assert.Equal(OutputFormatKind.JsonSchema, format.Kind);
        Assert.Equal("person", format.Name);
        Assert.True(format.Strict);
        SchemaAssert.Valid(PersonSchema, format.Generate(7)!);
        Assert.Equal(format.Generate(7), format.Generate(7));
    }

    [Theory]
    [InlineData("""{"type":"json_schema"}""", "Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema", "missing_required_parameter")]
    [InlineData("""{"type":"json_schema","json_schema":{"schema":{}}}""", "Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name", "missing_required_parameter")]
    [InlineData("""{"json_schema":{}}""", "Missing required parameter: 'response_format.type'.", "response_format.type", "missing_required_parameter")]
    [InlineData("\"json_object\"", "'json_object' is not of type 'object' - 'response_format'", null, null)]
    [InlineData(
        """{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}""",
        "Invalid schema for response_format 'person': In context=(), 'additionalProperties' is required to be supplied and to be false.",
        "response_format",
        null)]
    public void FromChat_MalformedFormat_IsTheServicesBadRequest(string responseFormat, string message, string? param, string? code)
    {
        var error = Assert.Throws<BadRequestException>(() => FromChat($$"""{"messages":[{"role":"user","content":"x"}],"response_format":{{responseFormat}}}"""));

        Assert.True(error.Exact);
        Assert.Equal(message, error.Message);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void FromChat_NonStrictSchemaThatStrictModeWouldRefuse_IsAccepted()
    {
        var format = FromChat("""{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"loose","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}""");

        Assert.False(format.Strict);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(format.Generate(1)!).RootElement.GetProperty("a").ValueKind);
    }

    [Fact]
    public void FromChat_UnknownType_IsBadRequestNamingTheParameter()
    {
        var error = Assert.Throws<BadRequestException>(() => FromChat("""{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}"""));

        Assert.Equal("response_format.type", error.Param);
        Assert.False(error.Exact);
    }

    [Fact]
    public void FromResponses_FlatJsonSchema_IsJsonSchema()
    {
        var format = FromResponses("""{"input":"x","text":{"format":{"type":"json_schema","name":"person","strict":true,"schema":""" + PersonSchema + """}}}""");

        Assert.Equal(OutputFormatKind.JsonSchema, format.Kind);
        Assert.Equal("person", format.Name);
        SchemaAssert.Valid(PersonSchema, format.Generate(3)!);
    }

    [Theory]
    [InlineData("""{"input":"x"}""")]
    [InlineData("""{"input":"x","text":{"format":{"type":"text"}}}""")]
    [InlineData("""{"input":"x","text":{"verbosity":"low"}}""")]
    public void FromResponses_NoneOrText_IsText(string json)
    {
        Assert.Same(OutputFormat.Text, FromResponses(json));
    }

    [Fact]
    public void FromResponses_ChatsNestedShape_IsMissingTheName()
    {
        var error = Assert.Throws<BadRequestException>(() => FromResponses("""{"input":"x","text":{"format":{"type":"json_schema","json_schema":{"name":"person","schema":""" + PersonSchema + """}}}}"""));

        Assert.Equal("Missing required parameter: 'text.format.name'.", error.Message);
        Assert.Equal("text.format.name", error.Param);
        Assert.Equal("missing_required_parameter", error.Code);
    }

    [Fact]
    public void FromResponses_StrictViolation_NamesTheSchemaParameterAndCode()
    {
        var error = Assert.Throws<BadRequestException>(() => FromResponses("""{"input":"x","text":{"format":{"type":"json_schema","name":"codex_output_schema","strict":true,"schema":{"type":"object","properties":{}}}}}"""));

        Assert.Equal("Invalid schema for response_format 'codex_output_schema': In context=(), 'additionalProperties' is required to be supplied and to be false.", error.Message);
        Assert.Equal("text.format.schema", error.Param);
        Assert.Equal("invalid_json_schema", error.Code);
    }

    [Theory]
    [InlineData("""{"instructions":"Answer in JSON.","input":"Who won?","text":{"format":{"type":"json_object"}}}""", false)]
    [InlineData("""{"input":"Who won? Answer in JSON.","text":{"format":{"type":"json_object"}}}""", true)]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_text","text":"json please"}]}],"text":{"format":{"type":"json_object"}}}""", true)]
    public void FromResponses_JsonObject_NeedsJsonInTheInputNotTheInstructions(string json, bool accepted)
    {
        if (accepted)
        {
            Assert.Equal(OutputFormatKind.JsonObject, FromResponses(json).Kind);
            return;
        }

        var error = Assert.Throws<BadRequestException>(() => FromResponses(json));
        Assert.Equal("Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.", error.Message);
        Assert.Equal("text.format", error.Param);
    }

    [Fact]
    public void Read_ResponsesFormat_AnswersJsonOfTheSchemaWithItsTokenCount()
    {
        string json = """{"input":"x","text":{"format":{"type":"json_schema","name":"person","strict":true,"schema":""" + PersonSchema + """}}}""";
        using var body = JsonDocument.Parse(json);
        var tokens = TokenCounter.ForModel("gpt-4o");

        var request = GenerationRequest.Read(body.RootElement, json, 5, tokens, allowCompletionTokens: false, limitName: "max_output_tokens", choicesAndStops: false, format: OutputFormat.FromResponses(body.RootElement));

        var choice = Assert.Single(request.Choices);
        SchemaAssert.Valid(PersonSchema, choice.Text);
        Assert.Equal("stop", choice.FinishReason);
        Assert.Equal(tokens.Count(choice.Text), request.CompletionTokens);
    }

    private static OutputFormat FromChat(string json)
    {
        using var document = JsonDocument.Parse(json);
        return OutputFormat.FromChat(document.RootElement);
    }

    private static OutputFormat FromResponses(string json)
    {
        using var document = JsonDocument.Parse(json);
        return OutputFormat.FromResponses(document.RootElement);
    }
}
