using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>
/// The v1 Responses API (<c>POST /openai/v1/responses</c>), non-streamed: <c>input</c> as text or messages,
/// <c>instructions</c>, <c>max_output_tokens</c>; one message of output text.
/// </summary>
internal static class Responses
{
    public static GenerationRequest Parse(JsonElement body, string rawBody, TokenCounter tokens)
    {
        if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            throw new BadRequestException("Streaming responses are not supported by this mock yet.", "stream");
        }

        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            throw new BadRequestException("'input' is a required property: a string or an array of messages.", "input");
        }

        // Counted as the chat messages they amount to: the instructions as a system message, then the input.
        var messages = new JsonArray();
        if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions.GetString() });
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = input.GetString() });
        }
        else
        {
            foreach (var item in input.EnumerateArray())
            {
                messages.Add(JsonNode.Parse(item.GetRawText()));
            }
        }

        using var counted = JsonDocument.Parse(messages.ToJsonString());
        return GenerationRequest.Read(body, rawBody, tokens.CountChat(counted.RootElement), tokens, allowCompletionTokens: false, limitName: "max_output_tokens", choicesAndStops: false);
    }

    public static string Render(string id, long created, string model, GenerationRequest request)
    {
        var choice = request.Choices[0];
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = created,
            ["status"] = choice.FinishReason == "length" ? "incomplete" : "completed",
            ["incomplete_details"] = choice.FinishReason == "length" ? new JsonObject { ["reason"] = "max_output_tokens" } : null,
            ["model"] = model,
            ["output"] = new JsonArray(new JsonObject
            {
                ["type"] = "message",
                ["id"] = "msg_" + id[5..],
                ["status"] = "completed",
                ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = choice.Text, ["annotations"] = new JsonArray() }),
            }),
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = request.PromptTokens,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                ["output_tokens"] = request.CompletionTokens,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                ["total_tokens"] = request.PromptTokens + request.CompletionTokens,
            },
        }.ToJsonString(MockJson.Options);
    }
}
