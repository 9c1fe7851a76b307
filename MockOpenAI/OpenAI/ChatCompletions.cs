using System.Text.Json;
using System.Text.Json.Nodes;
using TokenCounting;

namespace MockOpenAI.OpenAI;

/// <summary>Chat completions in Azure OpenAI's shape (2024-10-21), plain and as server-sent-event chunks.</summary>
internal static class ChatCompletions
{
    public static GenerationRequest Parse(JsonElement body, string rawBody, TokenCounter tokens)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw new BadRequestException("'messages' is a required property and must be a non-empty array.", "messages");
        }

        var format = OutputFormat.FromChat(body);
        var request = GenerationRequest.Read(body, rawBody, AzureOpenAIPromptBilling.Messages(tokens, messages), tokens, allowCompletionTokens: true, format: format);
        var seed = SyntheticText.Seed(rawBody);
        if (ToolCalls.Requested(body, seed) is not { } first)
        {
            return request;
        }

        return request with
        {
            Choices = [.. Enumerable.Range(0, request.Choices.Count).Select(i => GeneratedChoice.ForCall(i == 0 ? first : ToolCalls.Requested(body, seed + i)!, request.AnswerLimit, tokens))],
        };
    }

    public static string Completion(string id, long created, string model, GenerationRequest request) => new JsonObject
    {
        ["id"] = id,
        ["object"] = "chat.completion",
        ["created"] = created,
        ["model"] = model,
        ["system_fingerprint"] = "fp_mock",
        ["prompt_filter_results"] = ContentFilters.PromptResults(),
        ["choices"] = new JsonArray([.. request.Choices.Select((choice, index) => (JsonNode)new JsonObject
        {
            ["index"] = index,
            ["finish_reason"] = choice.FinishReason,
            ["logprobs"] = null,
            ["message"] = Message(choice),
            ["content_filter_results"] = ContentFilters.Safe(),
        })]),
        ["usage"] = request.Usage(),
    }.ToJsonString(MockJson.Options);

    /// <summary>The chunks of a streamed completion, each a complete <c>data:</c> event, ending with <c>data: [DONE]</c>.</summary>
    public static IEnumerable<(ChunkKind Kind, string Event)> Chunks(string id, long created, string model, GenerationRequest request)
    {
        yield return (ChunkKind.PromptFilter, ServerSentEvents.Data(new JsonObject
        {
            ["choices"] = new JsonArray(),
            ["created"] = 0,
            ["id"] = id,
            ["model"] = string.Empty,
            ["object"] = string.Empty,
            ["prompt_filter_results"] = ContentFilters.PromptResults(),
        }));
        for (var index = 0; index < request.Choices.Count; index++)
        {
            var kind = index == 0 ? ChunkKind.Role : ChunkKind.OtherChoice;
            yield return (kind, ServerSentEvents.Data(Chunk(id, created, model, index, RoleDelta(request.Choices[index]), null, null, request.IncludeUsage)));
        }

        foreach (var (kind, index, piece) in request.StreamedPieces())
        {
            yield return (kind, ServerSentEvents.Data(Chunk(id, created, model, index, PieceDelta(request.Choices[index], piece), null, ContentFilters.Safe(), request.IncludeUsage)));
        }

        for (var index = 0; index < request.Choices.Count; index++)
        {
            yield return (ChunkKind.Finish, ServerSentEvents.Data(Chunk(id, created, model, index, new JsonObject(), request.Choices[index].FinishReason, new JsonObject(), request.IncludeUsage)));
        }

        if (request.IncludeUsage)
        {
            yield return (ChunkKind.Usage, ServerSentEvents.Data(new JsonObject
            {
                ["choices"] = new JsonArray(),
                ["created"] = created,
                ["id"] = id,
                ["model"] = model,
                ["object"] = "chat.completion.chunk",
                ["system_fingerprint"] = "fp_mock",
                ["usage"] = request.Usage(),
            }));
        }

        yield return (ChunkKind.Done, ServerSentEvents.Done);
    }

    private static JsonObject Message(GeneratedChoice choice)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = choice.Call is null ? choice.Text : null, ["refusal"] = null };
        if (choice.Call is { } call)
        {
            message["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
            });
        }

        return message;
    }

    /// <summary>The first delta of a choice: the role, and for a tool call its id, type and name with empty arguments.</summary>
    private static JsonObject RoleDelta(GeneratedChoice choice) => choice.Call is { } call
        ? new JsonObject
        {
            ["content"] = null,
            ["refusal"] = null,
            ["role"] = "assistant",
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = string.Empty },
            }),
        }
        : new JsonObject { ["content"] = string.Empty, ["refusal"] = null, ["role"] = "assistant" };

    private static JsonObject PieceDelta(GeneratedChoice choice, string piece) => choice.Call is null
        ? new JsonObject { ["content"] = piece }
        : new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = piece } }) };

    private static JsonObject Chunk(string id, long created, string model, int index, JsonObject delta, string? finishReason, JsonNode? filter, bool includeUsage)
    {
        var choice = new JsonObject
        {
            ["delta"] = delta,
            ["finish_reason"] = finishReason,
            ["index"] = index,
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
}
