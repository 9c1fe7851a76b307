using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenCounting;

namespace MockOpenAI.OpenAI;

/// <summary>
/// The Responses API (<c>POST /openai/v1/responses</c>, <c>POST /openai/responses?api-version=</c>): <c>input</c> as
/// text or items, <c>instructions</c>, <c>max_output_tokens</c>, <c>store</c>, <c>previous_response_id</c>; one message
/// of output text, whole or as the Responses event stream.
/// </summary>
internal static class Responses
{
    private const string ObfuscationAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>The <c>previous_response_id</c> the request continues, if any.</summary>
    public static string? PreviousResponseId(JsonElement body)
    {
        if (!body.TryGetProperty("previous_response_id", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
        {
            throw new BadRequestException("'previous_response_id' must be a non-empty string.", "previous_response_id");
        }

        return value.GetString();
    }

    /// <param name="body">The request.</param>
    /// <param name="rawBody">The request as sent, which seeds the answer.</param>
    /// <param name="tokens">The model's tokenizer.</param>
    /// <param name="history">The earlier turns' input and output items, oldest first: they count as input tokens.</param>
    /// <param name="newId">A fresh unique id (hex) for input items that come without one.</param>
    public static ResponsesRequest Parse(JsonElement body, string rawBody, TokenCounter tokens, IReadOnlyList<JsonElement> history, Func<string> newId)
    {
        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            throw new BadRequestException("'input' is a required property: a string or an array of items.", "input");
        }

        var items = InputItems(input, newId);
        var instructions = body.TryGetProperty("instructions", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;

        // Counted as the chat messages they amount to: the instructions as a system message (a turn's instructions do
        // not carry over to the next), then the earlier turns, then this input.
        var messages = new JsonArray();
        if (instructions is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        foreach (var item in history)
        {
            messages.Add(ChatView(JsonNode.Parse(item.GetRawText())!.AsObject()));
        }

        foreach (var item in items)
        {
            messages.Add(ChatView(item));
        }

        using var counted = JsonDocument.Parse(messages.ToJsonString());
        var generation = GenerationRequest.Read(body, rawBody, AzureOpenAIPromptBilling.Messages(tokens, counted.RootElement), tokens, allowCompletionTokens: false, limitName: "max_output_tokens", choicesAndStops: false, format: OutputFormat.FromResponses(body));
        return new ResponsesRequest(
            generation,
            items,
            instructions,
            body.TryGetProperty("max_output_tokens", out var max) && max.ValueKind == JsonValueKind.Number ? max.GetInt32() : null,
            PreviousResponseId(body),
            ReadBool(body, "store") ?? true,
            ReadNumber(body, "temperature", 0, 2) ?? 1.0,
            ReadNumber(body, "top_p", 0, 1) ?? 1.0,
            body.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String ? user.GetString() : null,
            body.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object ? JsonNode.Parse(metadata.GetRawText())!.AsObject() : [],
            TextFormat(body),
            !(body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("include_obfuscation", out var obfuscation) && obfuscation.ValueKind == JsonValueKind.False),
            SyntheticText.Seed(rawBody));
    }

    /// <summary>The finished response: <c>completed</c>, or <c>incomplete</c> when <c>max_output_tokens</c> cut it.</summary>
    public static JsonObject Completed(ResponsesRequest request, string id, string messageId, long created, string model)
    {
        var choice = request.Generation.Choices[0];
        var cut = choice.FinishReason == "length";
        return Response(request, id, created, model, cut ? "incomplete" : "completed", new JsonArray(OutputMessage(messageId, cut ? "incomplete" : "completed", choice.Text)), Usage(request.Generation));
    }

    /// <summary>
    /// The event stream of a response, each event an SSE <c>event:</c> line and <c>data:</c> line with its
    /// <c>sequence_number</c> from 0: created, in_progress, the message item and its text part added, one
    /// <c>response.output_text.delta</c> per token, the text, part and item done, then <c>response.completed</c> (or
    /// <c>response.incomplete</c>) with the whole response and its usage. No <c>[DONE]</c> follows.
    /// </summary>
    public static IEnumerable<(ChunkKind Kind, string Event)> Events(ResponsesRequest request, string id, string messageId, long created, string model)
    {
        var sequence = 0;
        var choice = request.Generation.Choices[0];
        var final = Completed(request, id, messageId, created, model);
        var status = final["status"]!.GetValue<string>();
        yield return (ChunkKind.Preamble, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.created",
            ["sequence_number"] = sequence++,
            ["response"] = Response(request, id, created, model, "in_progress", [], null),
        }));
        yield return (ChunkKind.Preamble, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.in_progress",
            ["sequence_number"] = sequence++,
            ["response"] = Response(request, id, created, model, "in_progress", [], null),
        }));
        yield return (ChunkKind.Role, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.output_item.added",
            ["sequence_number"] = sequence++,
            ["output_index"] = 0,
            ["item"] = new JsonObject { ["id"] = messageId, ["type"] = "message", ["status"] = "in_progress", ["content"] = new JsonArray(), ["role"] = "assistant" },
        }));
        yield return (ChunkKind.OtherChoice, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.content_part.added",
            ["sequence_number"] = sequence++,
            ["item_id"] = messageId,
            ["output_index"] = 0,
            ["content_index"] = 0,
            ["part"] = TextPart(string.Empty),
        }));

        var random = new Random(request.Seed);
        foreach (var piece in choice.Pieces)
        {
            var delta = new JsonObject
            {
                ["type"] = "response.output_text.delta",
                ["sequence_number"] = sequence++,
                ["item_id"] = messageId,
                ["output_index"] = 0,
                ["content_index"] = 0,
                ["delta"] = piece,
                ["logprobs"] = new JsonArray(),
            };
            if (request.IncludeObfuscation)
            {
                delta["obfuscation"] = Obfuscation(random, piece);
            }

            yield return (ChunkKind.Content, ServerSentEvents.Event(delta));
        }

        yield return (ChunkKind.Finish, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.output_text.done",
            ["sequence_number"] = sequence++,
            ["item_id"] = messageId,
            ["output_index"] = 0,
            ["content_index"] = 0,
            ["text"] = choice.Text,
            ["logprobs"] = new JsonArray(),
        }));
        yield return (ChunkKind.Finish, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.content_part.done",
            ["sequence_number"] = sequence++,
            ["item_id"] = messageId,
            ["output_index"] = 0,
            ["content_index"] = 0,
            ["part"] = TextPart(choice.Text),
        }));
        yield return (ChunkKind.Finish, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = "response.output_item.done",
            ["sequence_number"] = sequence++,
            ["output_index"] = 0,
            ["item"] = final["output"]![0]!.DeepClone(),
        }));
        yield return (ChunkKind.Done, ServerSentEvents.Event(new JsonObject
        {
            ["type"] = status == "incomplete" ? "response.incomplete" : "response.completed",
            ["sequence_number"] = sequence++,
            ["response"] = final,
        }));
    }

    /// <summary>
    /// A page of a response's input items (<c>GET /responses/{id}/input_items</c>): <paramref name="order"/> <c>desc</c>
    /// (the default, newest first) or <c>asc</c>, up to <paramref name="limit"/> items (1 to 100, default 20) after
    /// the item <paramref name="after"/>.
    /// </summary>
    public static string InputItemList(IReadOnlyList<JsonElement> items, string? order, string? limit, string? after)
    {
        if (order is not (null or "asc" or "desc"))
        {
            throw new BadRequestException("'order' must be 'asc' or 'desc'.", "order");
        }

        var size = 20;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > 100))
        {
            throw new BadRequestException("'limit' must be an integer from 1 to 100.", "limit");
        }

        IEnumerable<JsonElement> ordered = order == "asc" ? items : items.Reverse();
        if (after is not null)
        {
            ordered = ordered.SkipWhile(i => Id(i) != after).Skip(1);
        }

        var rest = ordered.ToList();
        var page = rest.Take(size).ToList();
        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. page.Select(i => JsonNode.Parse(i.GetRawText()))]),
            ["first_id"] = page.Count > 0 ? Id(page[0]) : null,
            ["last_id"] = page.Count > 0 ? Id(page[^1]) : null,
            ["has_more"] = rest.Count > page.Count,
        }.ToJsonString(MockJson.Options);
    }

    /// <summary>The answer to <c>DELETE /responses/{id}</c>.</summary>
    public static string Deleted(string id) => new JsonObject { ["id"] = id, ["object"] = "response.deleted", ["deleted"] = true }.ToJsonString(MockJson.Options);

    private static JsonObject Response(ResponsesRequest request, string id, long created, string model, string status, JsonArray output, JsonObject? usage) => new()
    {
        ["id"] = id,
        ["object"] = "response",
        ["created_at"] = created,
        ["status"] = status,
        ["error"] = null,
        ["incomplete_details"] = status == "incomplete" ? new JsonObject { ["reason"] = "max_output_tokens" } : null,
        ["instructions"] = request.Instructions,
        ["max_output_tokens"] = request.MaxOutputTokens,
        ["model"] = model,
        ["output"] = output,
        ["parallel_tool_calls"] = true,
        ["previous_response_id"] = request.PreviousResponseId,
        ["store"] = request.Store,
        ["temperature"] = request.Temperature,
        ["top_p"] = request.TopP,
        ["text"] = new JsonObject { ["format"] = request.TextFormat.DeepClone() },
        ["truncation"] = "disabled",
        ["usage"] = usage,
        ["user"] = request.User,
        ["metadata"] = request.Metadata.DeepClone(),
    };

    /// <summary>The request's <c>text.format</c> as the response echoes it; <c>{"type":"text"}</c> when it sets none.</summary>
    private static JsonObject TextFormat(JsonElement body) =>
        body.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object
            && text.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
            ? JsonNode.Parse(format.GetRawText())!.AsObject()
            : new JsonObject { ["type"] = "text" };

    private static JsonObject Usage(GenerationRequest generation) => new()
    {
        ["input_tokens"] = generation.PromptTokens,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
        ["output_tokens"] = generation.CompletionTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
        ["total_tokens"] = generation.PromptTokens + generation.CompletionTokens,
    };

    private static JsonObject OutputMessage(string messageId, string status, string text) => new()
    {
        ["id"] = messageId,
        ["type"] = "message",
        ["status"] = status,
        ["content"] = new JsonArray(TextPart(text)),
        ["role"] = "assistant",
    };

    private static JsonObject TextPart(string text) => new()
    {
        ["type"] = "output_text",
        ["annotations"] = new JsonArray(),
        ["logprobs"] = new JsonArray(),
        ["text"] = text,
    };

    /// <summary>
    /// The input as item resources: a string becomes one user message; a message's string content becomes one
    /// <c>input_text</c> part (<c>output_text</c> for the assistant); items without an id get one.
    /// </summary>
    private static List<JsonObject> InputItems(JsonElement input, Func<string> newId)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            return [Message("msg_" + newId(), "user", new JsonArray(Part("input_text", input.GetString()!)))];
        }

        var items = new List<JsonObject>();
        foreach (var element in input.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new BadRequestException("Each item of 'input' must be an object.", "input");
            }

            var item = JsonNode.Parse(element.GetRawText())!.AsObject();
            var type = Text(item["type"]);
            if (type is null or "message" && Text(item["role"]) is { } role)
            {
                var content = item["content"] is JsonValue value && value.TryGetValue<string>(out var text)
                    ? new JsonArray(Part(role == "assistant" ? "output_text" : "input_text", text))
                    : item["content"]?.DeepClone() ?? new JsonArray();
                items.Add(Message(Text(item["id"]) ?? "msg_" + newId(), role, content));
                continue;
            }

            if (Text(item["id"]) is null)
            {
                item["id"] = "item_" + newId();
            }

            items.Add(item);
        }

        return items;
    }

    private static JsonObject Message(string id, string role, JsonNode content) => new()
    {
        ["type"] = "message",
        ["id"] = id,
        ["status"] = "completed",
        ["role"] = role,
        ["content"] = content,
    };

    private static JsonObject Part(string type, string text) => new() { ["type"] = type, ["text"] = text };

    /// <summary>An item as the chat message it costs: a message's role and content; any other item whole, without id and status.</summary>
    private static JsonObject ChatView(JsonObject item)
    {
        if (Text(item["type"]) is null or "message" && item["role"] is not null)
        {
            return new JsonObject { ["role"] = item["role"]!.DeepClone(), ["content"] = item["content"]?.DeepClone() };
        }

        var view = item.DeepClone().AsObject();
        view.Remove("id");
        view.Remove("status");
        return view;
    }

    /// <summary>Random characters, seeded from the request, that pad a delta as OpenAI's stream obfuscation does.</summary>
    private static string Obfuscation(Random random, string delta)
    {
        var length = Math.Max(1, 16 - delta.Length) + random.Next(4);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = ObfuscationAlphabet[r.Next(ObfuscationAlphabet.Length)];
            }
        });
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string? Id(JsonElement item) => item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    private static bool? ReadBool(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new BadRequestException($"'{name}' must be a boolean.", name),
        };
    }

    private static double? ReadNumber(JsonElement body, string name, double min, double max)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var number = value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;
        if (!(number >= min && number <= max))
        {
            throw new BadRequestException(string.Create(CultureInfo.InvariantCulture, $"'{name}' must be a number from {min} to {max}."), name);
        }

        return number;
    }
}
