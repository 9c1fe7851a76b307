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

        // Read once with a reader, not into a document: a response is read on every request that counts tokens.
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read())
            {
                return null;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return null;
            }

            return ReadObject(ref reader);
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

    /// <summary>
    /// The usage of the object the reader is at (its <c>usage</c>, else its <c>response</c>'s), as <see cref="From"/>
    /// reads it; the whole object is read, so a malformed one gives a <see cref="JsonException"/>.
    /// </summary>
    private static TokenUsage? ReadObject(ref Utf8JsonReader reader)
    {
        TokenUsage? usage = null;
        TokenUsage? response = null;
        var hasUsage = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    hasUsage = true;
                    usage = ReadUsage(ref reader);
                    continue;
                }
            }
            else if (reader.ValueTextEquals("response"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    response = ReadObject(ref reader);
                    continue;
                }
            }
            else
            {
                reader.Read();
            }

            reader.Skip();
        }

        return hasUsage ? usage : response;
    }

    private static TokenUsage? ReadUsage(ref Utf8JsonReader reader)
    {
        long? promptTokens = null, inputTokens = null, completionTokens = null, outputTokens = null, totalTokens = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueTextEquals("prompt_tokens"u8) ? 1
                : reader.ValueTextEquals("input_tokens"u8) ? 2
                : reader.ValueTextEquals("completion_tokens"u8) ? 3
                : reader.ValueTextEquals("output_tokens"u8) ? 4
                : reader.ValueTextEquals("total_tokens"u8) ? 5
                : 0;
            reader.Read();
            long? value = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number) ? number : null;
            switch (name)
            {
                case 1: promptTokens = value; break;
                case 2: inputTokens = value; break;
                case 3: completionTokens = value; break;
                case 4: outputTokens = value; break;
                case 5: totalTokens = value; break;
            }

            reader.Skip();
        }

        var prompt = promptTokens ?? inputTokens;
        if (prompt is null)
        {
            return null;
        }

        var completion = completionTokens ?? outputTokens ?? 0;
        return new TokenUsage(prompt.Value, completion, totalTokens ?? (prompt.Value + completion), Estimated: false);
    }

    public static bool IsEventStream(string? contentType) =>
        contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
