using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>What a chat or text completion request asks for, and the words the mock answers with.</summary>
internal sealed record GenerationRequest(int PromptTokens, int CompletionLimit, IReadOnlyList<string> Words, int CompletionTokens, string FinishReason, bool Stream, bool IncludeUsage)
{
    /// <summary>Completion length when the request sets no limit (also OpenAI's default <c>max_tokens</c> for completions).</summary>
    public const int DefaultCompletionTokens = 16;

    /// <summary>What the quota charges at admission: the prompt plus every completion token the request allows.</summary>
    public int EstimatedTokens => PromptTokens + CompletionLimit;

    /// <summary>
    /// Reads the limits and stream options shared by chat and text completions; the answer is seeded from the raw body,
    /// never longer than the limit, and ends with <c>length</c> when the limit cut it.
    /// </summary>
    public static GenerationRequest Read(JsonElement body, string rawBody, int promptTokens, TokenCounter tokens, bool allowCompletionTokens)
    {
        var limit = (allowCompletionTokens ? ReadLimit(body, "max_completion_tokens") : null) ?? ReadLimit(body, "max_tokens");
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var usage) && usage.ValueKind == JsonValueKind.True;
        var completionTokens = Math.Min(limit ?? DefaultCompletionTokens, DefaultCompletionTokens);
        var finishReason = limit is { } max && max < DefaultCompletionTokens ? "length" : "stop";
        var words = SyntheticText.NextWords(SyntheticText.Seed(rawBody), completionTokens);
        return new GenerationRequest(promptTokens, limit ?? DefaultCompletionTokens, words, tokens.Count(string.Concat(words)), finishReason, stream, includeUsage);
    }

    public JsonObject Usage() => new()
    {
        ["prompt_tokens"] = PromptTokens,
        ["completion_tokens"] = CompletionTokens,
        ["total_tokens"] = PromptTokens + CompletionTokens,
    };

    private static int? ReadLimit(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var limit) || limit < 1)
        {
            throw new BadRequestException(string.Create(CultureInfo.InvariantCulture, $"'{name}' must be a positive integer."), name);
        }

        return limit;
    }
}
