using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.Tests.OpenAI;

/// <summary>
/// Reduces a server-sent-event stream to its structure: one line per event (a named event's <c>event:</c> line on the
/// line before), the JSON with values that vary between runs (ids, timestamps, generated text, obfuscation padding)
/// replaced by placeholders, so a golden file can pin event order and fields.
/// </summary>
internal static class StreamShape
{
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Of(string stream)
    {
        var lines = new List<string>();
        foreach (var raw in stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var block = raw;
            if (block.StartsWith("event: ", StringComparison.Ordinal))
            {
                var end = block.IndexOf('\n', StringComparison.Ordinal);
                lines.Add(block[..end]);
                block = block[(end + 1)..];
            }

            Assert.StartsWith("data: ", block, StringComparison.Ordinal);
            var data = block["data: ".Length..];
            lines.Add(data == "[DONE]" ? "[DONE]" : Normalize(JsonNode.Parse(data)!).ToJsonString(Readable));
        }

        return string.Join('\n', lines) + "\n";
    }

    private static JsonNode Normalize(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var (name, value) in obj.ToList())
            {
                obj[name] = (name, value) switch
                {
                    ("id" or "item_id", JsonValue v) when v.GetValue<string>().Length > 0 => "<id>",
                    ("created" or "created_at", JsonValue v) when v.GetValue<long>() != 0 => "<created>",
                    ("content" or "text" or "delta", JsonValue v) when v.TryGetValue<string>(out var s) && s.Length > 0 => "<text>",
                    ("obfuscation", JsonValue) => "<obfuscation>",
                    (_, null) => null,
                    _ => Normalize(value!.DeepClone()),
                };
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                array[i] = array[i] is null ? null : Normalize(array[i]!.DeepClone());
            }
        }

        return node;
    }
}
