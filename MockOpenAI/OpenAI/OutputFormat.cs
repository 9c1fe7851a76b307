using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>
/// The format a request asks the answer in: chat's <c>response_format</c> or the Responses API's <c>text.format</c>,
/// read and checked as the service checks them (wordings and sources in docs/fidelity.md).
/// </summary>
internal sealed class OutputFormat
{
    /// <summary>How many words the <c>answer</c> of a <c>json_object</c> answer holds.</summary>
    public const int JsonObjectWords = 8;

    public static readonly OutputFormat Text = new(OutputFormatKind.Text, null, null, strict: false);

    private OutputFormat(OutputFormatKind kind, string? name, JsonElement? schema, bool strict)
    {
        Kind = kind;
        Name = name;
        Schema = schema;
        Strict = strict;
    }

    public OutputFormatKind Kind { get; }

    /// <summary>The schema's name (<c>json_schema</c> only).</summary>
    public string? Name { get; }

    /// <summary>The schema (<c>json_schema</c> only; absent, the answer is shaped as for <c>json_object</c>).</summary>
    public JsonElement? Schema { get; }

    public bool Strict { get; }

    /// <summary>
    /// Chat's <c>response_format</c>: <c>{"type":"text"}</c> (or none), <c>{"type":"json_object"}</c> (a message must
    /// mention JSON), <c>{"type":"json_schema","json_schema":{"name":...,"schema":{...},"strict":true}}</c>.
    /// </summary>
    public static OutputFormat FromChat(JsonElement body)
    {
        if (!body.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return Text;
        }

        if (format.ValueKind != JsonValueKind.Object)
        {
            // The value as the service prints it: a string in single quotes, anything else as written.
            var shown = format.ValueKind == JsonValueKind.String ? $"'{format.GetString()}'" : format.GetRawText();
            throw BadRequestException.Worded($"{shown} is not of type 'object' - 'response_format'", null, null);
        }

        switch (Type(format, "response_format"))
        {
            case "text":
                return Text;
            case "json_object":
                var mentioned = body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
                    && messages.EnumerateArray().Any(message => message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) && MentionsJson(content));
                if (!mentioned)
                {
                    throw BadRequestException.Worded("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", "messages", null);
                }

                return new OutputFormat(OutputFormatKind.JsonObject, null, null, strict: false);
            case "json_schema":
                if (!format.TryGetProperty("json_schema", out var definition) || definition.ValueKind != JsonValueKind.Object)
                {
                    throw Missing("response_format.json_schema");
                }

                return Named(definition, "response_format.json_schema", "response_format", null);
            default:
                throw new BadRequestException("'response_format.type' must be 'text', 'json_object' or 'json_schema'.", "response_format.type");
        }
    }

    /// <summary>
    /// The Responses API's <c>text.format</c>: <c>{"type":"text"}</c> (or none), <c>{"type":"json_object"}</c> (the
    /// input, not the instructions, must mention JSON), <c>{"type":"json_schema","name":...,"schema":{...},"strict":true}</c>
    /// (flat, unlike chat).
    /// </summary>
    public static OutputFormat FromResponses(JsonElement body)
    {
        if (!body.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.Object
            || !text.TryGetProperty("format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return Text;
        }

        if (format.ValueKind != JsonValueKind.Object)
        {
            throw new BadRequestException("'text.format' must be an object.", "text.format");
        }

        switch (Type(format, "text.format"))
        {
            case "text":
                return Text;
            case "json_object":
                var input = body.TryGetProperty("input", out var i) ? i : default;
                var mentioned = input.ValueKind switch
                {
                    JsonValueKind.String => MentionsJson(input),
                    JsonValueKind.Array => input.EnumerateArray().Any(item => item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out var content) && MentionsJson(content)),
                    _ => false,
                };
                if (!mentioned)
                {
                    throw BadRequestException.Worded("Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.", "text.format", null);
                }

                return new OutputFormat(OutputFormatKind.JsonObject, null, null, strict: false);
            case "json_schema":
                return Named(format, "text.format", "text.format.schema", "invalid_json_schema");
            default:
                throw new BadRequestException("'text.format.type' must be 'text', 'json_object' or 'json_schema'.", "text.format.type");
        }
    }

    /// <summary>
    /// The answer's text for <paramref name="seed"/>: compact JSON, a value of the schema or, for <c>json_object</c>,
    /// <c>{"answer":"..."}</c> with <see cref="JsonObjectWords"/> words. Null for free text, which the caller writes.
    /// </summary>
    public string? Generate(int seed) => Kind switch
    {
        OutputFormatKind.JsonSchema when Schema is { } schema => SchemaInstance.Generate(schema, seed)?.ToJsonString(MockJson.Options) ?? "null",
        OutputFormatKind.JsonSchema or OutputFormatKind.JsonObject => new JsonObject { ["answer"] = string.Concat(SyntheticText.NextWords(seed, JsonObjectWords)) }.ToJsonString(MockJson.Options),
        _ => null,
    };

    /// <summary>The named schema of <c>json_schema</c>, checked against strict mode's rules when <c>strict</c> is true.</summary>
    private static OutputFormat Named(JsonElement definition, string path, string schemaParam, string? schemaCode)
    {
        if (!definition.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
        {
            throw Missing(path + ".name");
        }

        var name = n.GetString()!;
        var strict = definition.TryGetProperty("strict", out var s) && s.ValueKind == JsonValueKind.True;
        JsonElement? schema = definition.TryGetProperty("schema", out var value) && value.ValueKind == JsonValueKind.Object ? value.Clone() : null;
        if (strict && schema is { } checkedSchema && StrictSchema.FirstViolation(checkedSchema) is { } violation)
        {
            throw BadRequestException.Worded($"Invalid schema for response_format '{name}': {violation}", schemaParam, schemaCode);
        }

        return new OutputFormat(OutputFormatKind.JsonSchema, name, schema, strict);
    }

    private static string? Type(JsonElement format, string path) =>
        format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : throw Missing(path + ".type");

    private static BadRequestException Missing(string param) => BadRequestException.Worded($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    /// <summary>Whether a message's content (text, or content parts with text) says "json" in any case.</summary>
    private static bool MentionsJson(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!.Contains("json", StringComparison.OrdinalIgnoreCase),
        JsonValueKind.Array => content.EnumerateArray().Any(part => part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text)
            && text.ValueKind == JsonValueKind.String && text.GetString()!.Contains("json", StringComparison.OrdinalIgnoreCase)),
        _ => false,
    };
}
