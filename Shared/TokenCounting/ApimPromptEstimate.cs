using System.Text.Json;

namespace TokenCounting;

/// <summary>
/// API Management's prompt estimate, as the gateway applies it: what <c>llm-token-limit</c> and
/// <c>azure-openai-token-limit</c> charge a request at admission (with <c>estimate-prompt-tokens</c>, or when it
/// streams), and the prompt of a stream that reports no usage. It copies API Management's behaviour as its reference
/// documents it ("Considerations for token counts and estimation": an image counts as at most
/// <see cref="TokensPerImage"/> tokens) over OpenAI's per-message rule (docs/fidelity.md, "Prompt estimate"): chat
/// <c>messages</c> as <see cref="ChatMessages"/> counts them, an image part at <see cref="TokensPerImage"/>; the
/// completions <c>prompt</c> and the embeddings and responses <c>input</c> as text, texts, token ids (one token each),
/// arrays of token ids, or items (a message item is <see cref="TokenCounter.TokensPerMessage"/> plus its fields, with
/// no reply priming and nothing for a <c>name</c>); the responses <c>instructions</c> as text.
/// </summary>
internal static class ApimPromptEstimate
{
    /// <summary>API Management counts each image of a prompt as at most this many tokens when it estimates.</summary>
    public const int TokensPerImage = 1200;

    /// <summary>The estimated prompt tokens of a request body; 0 for a body that is not a JSON object.</summary>
    public static int Count(TokenCounter counter, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return 0;
        }

        var tokens = 0;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            tokens += ChatMessages.Count(counter, messages, TokensPerImage);
        }

        if (body.TryGetProperty("prompt", out var prompt))
        {
            tokens += Input(counter, prompt);
        }

        if (body.TryGetProperty("input", out var input))
        {
            tokens += Input(counter, input);
        }

        if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            tokens += counter.Count(instructions.GetString()!);
        }

        return tokens;
    }

    private static int Input(TokenCounter counter, JsonElement input) => input.ValueKind switch
    {
        JsonValueKind.String => counter.Count(input.GetString()!),
        JsonValueKind.Array => input.EnumerateArray().Sum(item => item.ValueKind switch
        {
            JsonValueKind.Number => 1,
            JsonValueKind.Array => item.GetArrayLength(),
            JsonValueKind.Object => TokenCounter.TokensPerMessage + item.EnumerateObject().Sum(field => ChatMessages.Value(counter, field.Value, TokensPerImage)),
            _ => ChatMessages.Value(counter, item, TokensPerImage),
        }),
        _ => 0,
    };
}
