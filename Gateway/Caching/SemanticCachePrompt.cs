using System.Text;
using System.Text.Json;

namespace Gateway.Caching;

/// <summary>
/// The text a semantic cache embeds for a request: the contents of a chat completion's <c>messages</c>, a completion's
/// <c>prompt</c>, or a Responses request's <c>instructions</c> and <c>input</c>, one message a line. With
/// <c>ignore-system-messages</c>, <c>system</c> and <c>developer</c> messages (and Responses' <c>instructions</c>) are
/// left out; more messages left than <c>max-message-count</c> means the request is not cached at all.
/// </summary>
internal static class SemanticCachePrompt
{
    /// <summary>The text to embed, or null when the request is not cached (no prompt, a stream, too many messages).</summary>
    public static string? Text(ReadOnlyMemory<byte> body, bool ignoreSystemMessages, int? maxMessageCount)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;

            // Streams are answered by the backend and not stored: docs/fidelity.md, "Semantic cache".
            if (root.ValueKind != JsonValueKind.Object
                || (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True))
            {
                return null;
            }

            var messages = Messages(root, ignoreSystemMessages);
            return messages.Count == 0 || messages.Count > maxMessageCount ? null : string.Join('\n', messages);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The text content of any request, streamed or not, one message a line (what <c>llm-content-safety</c> checks), or
    /// null when the body is not JSON or holds no text.
    /// </summary>
    public static string? AllText(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var messages = document.RootElement.ValueKind == JsonValueKind.Object ? Messages(document.RootElement, ignoreSystemMessages: false) : [];
            return messages.Count == 0 ? null : string.Join('\n', messages);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A chat's message contents, a completion's prompt, or a Responses request's instructions and input.</summary>
    private static List<string> Messages(JsonElement root, bool ignoreSystemMessages)
    {
        var messages = new List<string>();
        if (root.TryGetProperty("messages", out var chat) && chat.ValueKind == JsonValueKind.Array)
        {
            AddMessages(messages, chat, ignoreSystemMessages);
        }
        else if (root.TryGetProperty("prompt", out var prompt))
        {
            AddText(messages, prompt);
        }
        else if (root.TryGetProperty("input", out var input))
        {
            if (!ignoreSystemMessages && root.TryGetProperty("instructions", out var instructions))
            {
                AddText(messages, instructions);
            }

            if (input.ValueKind == JsonValueKind.Array)
            {
                AddMessages(messages, input, ignoreSystemMessages);
            }
            else
            {
                AddText(messages, input);
            }
        }

        return messages;
    }

    private static void AddMessages(List<string> messages, JsonElement list, bool ignoreSystemMessages)
    {
        foreach (var message in list.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                AddText(messages, message);
                continue;
            }

            var role = message.TryGetProperty("role", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString() : null;
            if (ignoreSystemMessages && role is "system" or "developer")
            {
                continue;
            }

            if (message.TryGetProperty("content", out var content))
            {
                AddText(messages, content);
            }
        }
    }

    /// <summary>A string, or the <c>text</c> of each part of an array (chat and Responses content parts, completion prompts).</summary>
    private static void AddText(List<string> messages, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            messages.Add(value.GetString()!);
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var part in value.EnumerateArray())
        {
            var partText = part.ValueKind == JsonValueKind.String ? part.GetString()
                : part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : null;
            if (partText is not null)
            {
                text.Append(text.Length == 0 ? string.Empty : " ").Append(partText);
            }
        }

        if (text.Length > 0)
        {
            messages.Add(text.ToString());
        }
    }
}
