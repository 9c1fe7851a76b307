using System.Text;
using System.Text.Json;

namespace Gateway.ContentSafety;

/// <summary>
/// The text of a model's answer that <c>llm-content-safety</c> checks: each choice's <c>message.content</c> (chat) or
/// <c>text</c> (completions), or the <c>output_text</c> parts of a Responses answer, one a line; for a stream (server-sent
/// events), the deltas of the same fields joined, whole or event by event (<see cref="EventText"/>).
/// </summary>
internal static class CompletionText
{
    /// <summary>The answer's text, or null when it holds none (or is neither JSON nor an event stream).</summary>
    public static string? Of(ReadOnlySpan<byte> body, string? contentType)
    {
        try
        {
            return Tokens.UsageJson.IsEventStream(contentType)
                ? FromStream(Encoding.UTF8.GetString(body))
                : FromJson(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? FromJson(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var parts = new List<string>();
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
                    && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    parts.Add(content.GetString()!);
                }
                else if (choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    parts.Add(text.GetString()!);
                }
            }
        }
        else if (root.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in output.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
                {
                    parts.AddRange(content.EnumerateArray()
                        .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                        .Select(p => p.GetProperty("text").GetString()!));
                }
            }
        }

        return parts.Count == 0 ? null : string.Join('\n', parts);
    }

    /// <summary>
    /// The text one server-sent event adds to the answer (its <c>data</c> lines, joined): the deltas of its choices in
    /// their order, empty when it adds none (a role chunk, a finish chunk, <c>[DONE]</c>, another event type, data that is
    /// not JSON).
    /// </summary>
    public static string EventText(ReadOnlySpan<byte> serverSentEvent)
    {
        var data = new StringBuilder();
        foreach (var line in Encoding.UTF8.GetString(serverSentEvent).Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith("data:", StringComparison.Ordinal))
            {
                // One optional space after the colon belongs to the field syntax (the SSE specification).
                var value = trimmed["data:".Length..];
                data.Append(data.Length > 0 ? "\n" : string.Empty).Append(value.StartsWith(' ') ? value[1..] : value);
            }
        }

        var text = new StringBuilder();
        try
        {
            Deltas(data.ToString().Trim(), (_, delta) => text.Append(delta));
        }
        catch (JsonException)
        {
            // Not JSON: nothing to check in it.
        }

        return text.ToString();
    }

    /// <summary>Chat and completion chunks' <c>delta.content</c> and <c>text</c> per choice, and Responses' <c>response.output_text.delta</c>.</summary>
    private static string? FromStream(string events)
    {
        var choices = new SortedDictionary<int, StringBuilder>();
        foreach (var line in events.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith("data:", StringComparison.Ordinal))
            {
                Deltas(trimmed["data:".Length..].Trim(), (index, delta) => Append(choices, index, delta));
            }
        }

        var texts = choices.Values.Select(b => b.ToString()).Where(t => t.Length > 0).ToList();
        return texts.Count == 0 ? null : string.Join('\n', texts);
    }

    /// <summary>Each text delta of one event's data, with its choice's index (0 for a Responses event).</summary>
    private static void Deltas(string data, Action<int, string> delta)
    {
        if (data.Length == 0 || data == "[DONE]")
        {
            return;
        }

        using var chunk = JsonDocument.Parse(data);
        var root = chunk.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
        {
            if (type.GetString() == "response.output_text.delta" && root.TryGetProperty("delta", out var text) && text.ValueKind == JsonValueKind.String)
            {
                delta(0, text.GetString()!);
            }

            return;
        }

        if (!root.TryGetProperty("choices", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var choice in list.EnumerateArray())
        {
            if (choice.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
            if (choice.TryGetProperty("delta", out var content) && content.ValueKind == JsonValueKind.Object
                && content.TryGetProperty("content", out var value) && value.ValueKind == JsonValueKind.String)
            {
                delta(index, value.GetString()!);
            }
            else if (choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                delta(index, text.GetString()!);
            }
        }
    }

    private static void Append(SortedDictionary<int, StringBuilder> choices, int index, string text)
    {
        if (!choices.TryGetValue(index, out var builder))
        {
            choices[index] = builder = new StringBuilder();
        }

        builder.Append(text);
    }
}
