using System.Text.Json;

namespace TokenCounting;

/// <summary>
/// OpenAI's per-message rule ("How to count tokens with tiktoken"), the walk both prompt rules share: per message,
/// <see cref="TokenCounter.TokensPerMessage"/> plus the tokens of every field's text (<see cref="TokenCounter.TokensPerName"/>
/// more for <c>name</c>), then <see cref="TokenCounter.ReplyPriming"/>. Text counts as text, content parts by their
/// text, anything else (tool calls, say) by its JSON. The rules differ only in what an image part costs.
/// </summary>
internal static class ChatMessages
{
    /// <summary>The prompt tokens of a chat request's <c>messages</c>.</summary>
    /// <param name="counter">The model's tokenizer.</param>
    /// <param name="messages">The array of messages.</param>
    /// <param name="imageTokens">What an image part costs; null counts it by its JSON, as any other part without text.</param>
    public static int Count(TokenCounter counter, JsonElement messages, int? imageTokens)
    {
        var total = TokenCounter.ReplyPriming;
        foreach (var message in messages.EnumerateArray())
        {
            total += TokenCounter.TokensPerMessage;
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var field in message.EnumerateObject())
            {
                total += Value(counter, field.Value, imageTokens);
                if (field.NameEquals("name"))
                {
                    total += TokenCounter.TokensPerName;
                }
            }
        }

        return total;
    }

    /// <summary>A field's value: text as text, content parts by their text, anything else by its JSON.</summary>
    public static int Value(TokenCounter counter, JsonElement value, int? imageTokens) => value.ValueKind switch
    {
        JsonValueKind.String => counter.Count(value.GetString()!),
        JsonValueKind.Null => 0,
        JsonValueKind.Array => value.EnumerateArray().Sum(part => Part(counter, part, imageTokens)),
        _ => counter.Count(value.GetRawText()),
    };

    private static int Part(TokenCounter counter, JsonElement part, int? imageTokens)
    {
        if (part.ValueKind != JsonValueKind.Object)
        {
            return Value(counter, part, imageTokens);
        }

        if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
        {
            return counter.Count(text.GetString()!);
        }

        return imageTokens is { } image && IsImage(part) ? image : counter.Count(part.GetRawText());
    }

    private static bool IsImage(JsonElement part) =>
        part.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() is "image_url" or "input_image";
}
