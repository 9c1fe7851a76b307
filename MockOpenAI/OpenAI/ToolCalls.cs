using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>A function call the mock makes instead of answering in text.</summary>
internal sealed record ToolCall(string Id, string Name, string Arguments)
{
    /// <summary>The arguments in the pieces a stream sends them in (about a token each).</summary>
    public IReadOnlyList<string> ArgumentPieces => Arguments.Chunk(4).Select(c => new string(c)).ToList();
}

/// <summary>
/// Reads <c>tools</c> and <c>tool_choice</c>. The mock calls a tool only when the request requires one
/// (<c>"required"</c> calls the first tool, <c>{"type":"function","function":{"name":...}}</c> the named one); with
/// <c>"auto"</c> or <c>"none"</c> it answers in text. Arguments are a value of the function's JSON schema (nested
/// objects, arrays, enums and references included), seeded from the request; a <c>strict</c> function's schema is
/// checked against strict mode's rules.
/// </summary>
internal static class ToolCalls
{
    public static ToolCall? Requested(JsonElement body, int seed)
    {
        if (!body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0)
        {
            if (body.TryGetProperty("tool_choice", out var orphan) && orphan.ValueKind is not JsonValueKind.Null
                && !(orphan.ValueKind == JsonValueKind.String && orphan.GetString() == "none"))
            {
                throw new BadRequestException("'tool_choice' is only allowed when 'tools' are specified.", "tool_choice");
            }

            return null;
        }

        var functions = tools.EnumerateArray()
            .Select(t => t.ValueKind == JsonValueKind.Object && t.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? (Name: n.GetString()!, Parameters: f.TryGetProperty("parameters", out var p) ? p : default, Strict: f.TryGetProperty("strict", out var s) && s.ValueKind == JsonValueKind.True)
                : throw new BadRequestException("Each tool needs 'function' with a 'name'.", "tools"))
            .ToList();
        for (var index = 0; index < functions.Count; index++)
        {
            if (functions[index].Strict && StrictSchema.FirstViolation(functions[index].Parameters) is { } violation)
            {
                throw BadRequestException.Worded($"Invalid schema for function '{functions[index].Name}': {violation}", $"tools[{index}].function.parameters", "invalid_function_parameters");
            }
        }

        if (!body.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        (string Name, JsonElement Parameters, bool Strict) chosen;
        if (choice.ValueKind == JsonValueKind.String)
        {
            switch (choice.GetString())
            {
                case "required":
                    chosen = functions[0];
                    break;
                case "auto" or "none":
                    return null;
                default:
                    throw new BadRequestException("'tool_choice' must be 'none', 'auto', 'required' or a named function.", "tool_choice");
            }
        }
        else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var named) && named.ValueKind == JsonValueKind.Object
            && named.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            var wanted = name.GetString();
            chosen = functions.FirstOrDefault(f => f.Name == wanted);
            if (chosen.Name is null)
            {
                throw new BadRequestException($"'tool_choice' names function '{wanted}', which is not in 'tools'.", "tool_choice");
            }
        }
        else
        {
            throw new BadRequestException("'tool_choice' must be 'none', 'auto', 'required' or a named function.", "tool_choice");
        }

        var random = new Random(seed);
        var id = "call_" + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))[..16] + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))[..8];
        return new ToolCall(id, chosen.Name, Arguments(chosen.Parameters, random).ToJsonString(MockJson.Options));
    }

    /// <summary>A value of the function's parameters schema (<see cref="SchemaInstance"/>); <c>{}</c> without one.</summary>
    private static JsonObject Arguments(JsonElement schema, Random random) =>
        schema.ValueKind == JsonValueKind.Object && SchemaInstance.Generate(schema, random.Next()) is JsonObject arguments ? arguments : [];
}
