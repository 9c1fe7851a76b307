using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>Chat completions in Azure OpenAI's shape (2024-10-21), plain and as server-sent-event chunks.</summary>
internal static class ChatCompletions
{
    /// <summary>Completion length when the request sets no limit.</summary>
    public const int DefaultCompletionTokens = 16;

    private static readonly JsonNode NoFilter = JsonNode.Parse("""{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}""")!;

    public static ChatRequest Parse(JsonElement body, string rawBody, TokenCounter tokens)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw new BadRequestException("'messages' is a required property and must be a non-empty array.", "messages");
        }

        var promptTokens = tokens.CountChat(messages);
        var limit = ReadLimit(body, "max_completion_tokens") ?? ReadLimit(body, "max_tokens");
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var usage) && usage.ValueKind == JsonValueKind.True;
        var completionTokens = Math.Min(limit ?? DefaultCompletionTokens, DefaultCompletionTokens);
        var finishReason = limit is { } max && max < DefaultCompletionTokens ? "length" : "stop";
        var words = SyntheticText.NextWords(SyntheticText.Seed(rawBody), completionTokens);
        return new ChatRequest(promptTokens, limit ?? DefaultCompletionTokens, words, tokens.Count(string.Concat(words)), finishReason, stream, includeUsage);
    }

    public static string Completion(string id, long created, string model, ChatRequest request) => new JsonObject
    {
        ["id"] = id,
        ["object"] = "chat.completion",
        ["created"] = created,
        ["model"] = model,
        ["system_fingerprint"] = "fp_mock",
        ["prompt_filter_results"] = PromptFilterResults(),
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["finish_reason"] = request.FinishReason,
            ["logprobs"] = null,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(request.Words), ["refusal"] = null },
            ["content_filter_results"] = NoFilter.DeepClone(),
        }),
        ["usage"] = Usage(request),
    }.ToJsonString(MockJson.Options);

    /// <summary>The chunks of a streamed completion, each a complete <c>data:</c> event, ending with <c>data: [DONE]</c>.</summary>
    public static IEnumerable<(ChunkKind Kind, string Event)> Chunks(string id, long created, string model, ChatRequest request)
    {
        yield return (ChunkKind.PromptFilter, Event(new JsonObject
        {
            ["choices"] = new JsonArray(),
            ["created"] = 0,
            ["id"] = id,
            ["model"] = string.Empty,
            ["object"] = string.Empty,
            ["prompt_filter_results"] = PromptFilterResults(),
        }));
        yield return (ChunkKind.Role, Event(Chunk(id, created, model, new JsonObject { ["content"] = string.Empty, ["refusal"] = null, ["role"] = "assistant" }, null, null, request.IncludeUsage)));
        foreach (var word in request.Words)
        {
            yield return (ChunkKind.Content, Event(Chunk(id, created, model, new JsonObject { ["content"] = word }, null, NoFilter.DeepClone(), request.IncludeUsage)));
        }

        yield return (ChunkKind.Finish, Event(Chunk(id, created, model, new JsonObject(), request.FinishReason, new JsonObject(), request.IncludeUsage)));
        if (request.IncludeUsage)
        {
            yield return (ChunkKind.Usage, Event(new JsonObject
            {
                ["choices"] = new JsonArray(),
                ["created"] = created,
                ["id"] = id,
                ["model"] = model,
                ["object"] = "chat.completion.chunk",
                ["system_fingerprint"] = "fp_mock",
                ["usage"] = Usage(request),
            }));
        }

        yield return (ChunkKind.Done, "data: [DONE]\n\n");
    }

    private static JsonObject Chunk(string id, long created, string model, JsonObject delta, string? finishReason, JsonNode? filter, bool includeUsage)
    {
        var choice = new JsonObject
        {
            ["delta"] = delta,
            ["finish_reason"] = finishReason,
            ["index"] = 0,
            ["logprobs"] = null,
        };
        if (filter is not null)
        {
            choice["content_filter_results"] = filter;
        }

        var chunk = new JsonObject
        {
            ["choices"] = new JsonArray(choice),
            ["created"] = created,
            ["id"] = id,
            ["model"] = model,
            ["object"] = "chat.completion.chunk",
            ["system_fingerprint"] = "fp_mock",
        };
        if (includeUsage)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    private static string Event(JsonObject chunk) => "data: " + chunk.ToJsonString(MockJson.Options) + "\n\n";

    private static JsonArray PromptFilterResults() =>
        new(new JsonObject { ["prompt_index"] = 0, ["content_filter_results"] = NoFilter.DeepClone() });

    private static JsonObject Usage(ChatRequest request) => new()
    {
        ["prompt_tokens"] = request.PromptTokens,
        ["completion_tokens"] = request.CompletionTokens,
        ["total_tokens"] = request.PromptTokens + request.CompletionTokens,
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

/// <summary>What a streamed chunk carries, which decides when it leaves.</summary>
internal enum ChunkKind
{
    PromptFilter,
    Role,
    Content,
    Finish,
    Usage,
    Done,
}

/// <summary>What a chat request asks for.</summary>
internal sealed record ChatRequest(int PromptTokens, int CompletionLimit, IReadOnlyList<string> Words, int CompletionTokens, string FinishReason, bool Stream, bool IncludeUsage)
{
    /// <summary>What the quota charges at admission: the prompt plus every completion token the request allows.</summary>
    public int EstimatedTokens => PromptTokens + CompletionLimit;
}

/// <summary>The request is malformed: Azure OpenAI answers 400 with the offending parameter.</summary>
internal sealed class BadRequestException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;
}
