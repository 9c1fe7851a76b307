using System.Text.Json;

namespace Gateway.Tokens;

/// <summary>
/// Reads the <c>usage</c> a model reports: <c>prompt_tokens</c>, <c>completion_tokens</c> (absent for embeddings) and
/// <c>total_tokens</c> of chat, completions and embeddings; <c>input_tokens</c> and <c>output_tokens</c> of responses,
/// whose streamed <c>response.completed</c> event carries it inside <c>response</c>.
/// </summary>
internal static class UsageJson
{
    /// <summary>The usage of a whole body: JSON, or a buffered event stream.</summary>
    /// <param name="body">The response body.</param>
    /// <param name="contentType">Its content type; <c>text/event-stream</c> is read event by event.</param>
    /// <param name="request">The request, whose tokenizer and prompt estimate stand in when a stream reports no usage.</param>
    public static TokenUsage? FromBody(ReadOnlySpan<byte> body, string? contentType, ModelRequest request)
    {
        if (IsEventStream(contentType))
        {
            var reader = new StreamedUsageReader(request.Counter);
            reader.Write(body);
            return reader.Result(request.PromptTokens);
        }

        try
        {
            var json = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref json);
            return From(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The usage of one JSON object (a response body or a streamed chunk), if it reports one.</summary>
    public static TokenUsage? From(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            var prompt = Number(usage, "prompt_tokens") ?? Number(usage, "input_tokens");
            var completion = Number(usage, "completion_tokens") ?? Number(usage, "output_tokens") ?? 0;
            if (prompt is null)
            {
                return null;
            }

            return new TokenUsage(prompt.Value, completion, Number(usage, "total_tokens") ?? (prompt.Value + completion), Estimated: false);
        }

        return root.TryGetProperty("response", out var response) ? From(response) : null;
    }

    public static bool IsEventStream(string? contentType) =>
        contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
