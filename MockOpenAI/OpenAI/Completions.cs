using System.Text.Json;
using System.Text.Json.Nodes;
using TokenCounting;

namespace MockOpenAI.OpenAI;

/// <summary>Legacy text completions in Azure OpenAI's shape (2024-10-21), plain and streamed.</summary>
internal static class Completions
{
    public static GenerationRequest Parse(JsonElement body, string rawBody, TokenCounter tokens)
    {
        if (!body.TryGetProperty("prompt", out var prompt))
        {
            throw new BadRequestException("'prompt' is a required property.", "prompt");
        }

        var promptTokens = prompt.ValueKind switch
        {
            JsonValueKind.String => tokens.Count(prompt.GetString()!),
            JsonValueKind.Array when prompt.GetArrayLength() > 0 => prompt.EnumerateArray().Sum(item => item.ValueKind switch
            {
                JsonValueKind.String => tokens.Count(item.GetString()!),
                JsonValueKind.Number => 1,
                JsonValueKind.Array => item.GetArrayLength(),
                _ => throw new BadRequestException("'prompt' must be a string, an array of strings, or token ids.", "prompt"),
            }),
            _ => throw new BadRequestException("'prompt' must be a string, an array of strings, or token ids.", "prompt"),
        };
        // Several prompts (strings or token arrays) get n choices each; one token array is one prompt.
        var prompts = prompt.ValueKind == JsonValueKind.Array && prompt.EnumerateArray().All(i => i.ValueKind != JsonValueKind.Number) ? prompt.GetArrayLength() : 1;
        return GenerationRequest.Read(body, rawBody, promptTokens, tokens, allowCompletionTokens: false, prompts: prompts);
    }

    public static string Completion(string id, long created, string model, GenerationRequest request) => new JsonObject
    {
        ["id"] = id,
        ["object"] = "text_completion",
        ["created"] = created,
        ["model"] = model,
        ["prompt_filter_results"] = ContentFilters.PromptResults(),
        ["choices"] = new JsonArray([.. request.Choices.Select((choice, index) => (JsonNode)Choice(index, choice.Text, choice.FinishReason, ContentFilters.Safe()))]),
        ["usage"] = request.Usage(),
    }.ToJsonString(MockJson.Options);

    /// <summary>A streamed completion: prompt filter results, one chunk a token, the finish, optional usage, [DONE].</summary>
    public static IEnumerable<(ChunkKind Kind, string Event)> Chunks(string id, long created, string model, GenerationRequest request)
    {
        yield return (ChunkKind.PromptFilter, ServerSentEvents.Data(new JsonObject
        {
            ["id"] = string.Empty,
            ["object"] = string.Empty,
            ["created"] = 0,
            ["model"] = string.Empty,
            ["prompt_filter_results"] = ContentFilters.PromptResults(),
            ["choices"] = new JsonArray(),
        }));
        foreach (var (kind, index, piece) in request.StreamedPieces())
        {
            yield return (kind, ServerSentEvents.Data(Chunk(id, created, model, Choice(index, piece, null, ContentFilters.Safe()))));
        }

        for (var index = 0; index < request.Choices.Count; index++)
        {
            yield return (ChunkKind.Finish, ServerSentEvents.Data(Chunk(id, created, model, Choice(index, string.Empty, request.Choices[index].FinishReason, null))));
        }

        if (request.IncludeUsage)
        {
            var usage = Chunk(id, created, model, null);
            usage["usage"] = request.Usage();
            yield return (ChunkKind.Usage, ServerSentEvents.Data(usage));
        }

        yield return (ChunkKind.Done, ServerSentEvents.Done);
    }

    private static JsonObject Chunk(string id, long created, string model, JsonObject? choice) => new()
    {
        ["id"] = id,
        ["object"] = "text_completion",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = choice is null ? new JsonArray() : new JsonArray(choice),
    };

    private static JsonObject Choice(int index, string text, string? finishReason, JsonObject? filter)
    {
        var choice = new JsonObject
        {
            ["text"] = text,
            ["index"] = index,
            ["finish_reason"] = finishReason,
            ["logprobs"] = null,
        };
        if (filter is not null)
        {
            choice["content_filter_results"] = filter;
        }

        return choice;
    }
}
