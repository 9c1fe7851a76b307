using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Gateway.Telemetry;

/// <summary>
/// Messages in the conventions' JSON shape (<c>[{"role":..,"parts":[{"type":"text","content":..}]}]</c>), the shape the
/// Aspire dashboard reads from <c>gen_ai.input.messages</c> and <c>gen_ai.output.messages</c>. Text parts only.
/// </summary>
internal static class GenAIMessages
{
    /// <summary>
    /// The input of a chat (<c>messages</c>), completions (<c>prompt</c>) or Responses (<c>input</c>) body; null for
    /// anything else (embeddings) or a body that is not JSON.
    /// </summary>
    public static string? Input(JsonElement body, string operation)
    {
        if (operation == GenAIConventions.Embeddings || body.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        var written = 0;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in messages.EnumerateArray())
                {
                    written += WriteItem(writer, message);
                }
            }
            else if (body.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String)
            {
                WriteMessage(writer, "user", prompt.GetString()!, null);
                written++;
            }
            else if (operation != GenAIConventions.Embeddings && body.TryGetProperty("input", out var input))
            {
                if (input.ValueKind == JsonValueKind.String)
                {
                    WriteMessage(writer, "user", input.GetString()!, null);
                    written++;
                }
                else if (input.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in input.EnumerateArray())
                    {
                        written += WriteItem(writer, item);
                    }
                }
            }

            writer.WriteEndArray();
        }

        return written == 0 ? null : Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteMessage(Utf8JsonWriter writer, string role, string text, string? finishReason)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteStartArray("parts");
        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("content", text);
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (finishReason is not null)
        {
            writer.WriteString("finish_reason", finishReason);
        }

        writer.WriteEndObject();
    }

    /// <summary>A message with a role and a content (a string, or parts with text): 1 when written.</summary>
    private static int WriteItem(Utf8JsonWriter writer, JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
            || !item.TryGetProperty("content", out var content))
        {
            return 0;
        }

        var text = new StringBuilder();
        if (content.ValueKind == JsonValueKind.String)
        {
            text.Append(content.GetString());
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
                {
                    text.Append(partText.GetString());
                }
            }
        }

        WriteMessage(writer, role.GetString()!, text.ToString(), null);
        return 1;
    }
}
