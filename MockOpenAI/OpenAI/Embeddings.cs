using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenCounting;

namespace MockOpenAI.OpenAI;

/// <summary>Embeddings in Azure OpenAI's shape: one unit vector per input (<see cref="WordOverlapEmbedding"/>), as floats or base64 (little-endian float32).</summary>
internal static class Embeddings
{
    public static EmbeddingsRequest Parse(JsonElement body, int modelDimensions, TokenCounter tokens)
    {
        if (!body.TryGetProperty("input", out var input))
        {
            throw new BadRequestException("'input' is a required property.", "input");
        }

        var inputs = ReadInputs(input, tokens);
        var dimensions = modelDimensions;
        if (body.TryGetProperty("dimensions", out var requested) && requested.ValueKind == JsonValueKind.Number)
        {
            if (!requested.TryGetInt32(out dimensions) || dimensions < 1 || dimensions > modelDimensions)
            {
                throw new BadRequestException($"'dimensions' must be between 1 and {modelDimensions}.", "dimensions");
            }
        }

        var base64 = false;
        if (body.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            base64 = format.ValueKind == JsonValueKind.String ? format.GetString() switch
            {
                "base64" => true,
                "float" => false,
                _ => throw new BadRequestException("'encoding_format' must be 'float' or 'base64'.", "encoding_format"),
            } : throw new BadRequestException("'encoding_format' must be 'float' or 'base64'.", "encoding_format");
        }

        return new EmbeddingsRequest(inputs, dimensions, base64);
    }

    public static string Render(EmbeddingsRequest request, string model)
    {
        var data = new JsonArray();
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            var vector = WordOverlapEmbedding.Of(request.Inputs[i].Text, request.Dimensions);
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = request.Base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())) : new JsonArray([.. vector.Select(v => (JsonNode)v)]),
            });
        }

        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = request.PromptTokens, ["total_tokens"] = request.PromptTokens },
        }.ToJsonString(MockJson.Options);
    }

    /// <summary>
    /// The inputs with their token counts: a string, an array of strings, one array of token ids, or an array of such
    /// arrays (token ids count one token each).
    /// </summary>
    private static List<(string Text, int Tokens)> ReadInputs(JsonElement input, TokenCounter tokens)
    {
        static bool IsTokenArray(JsonElement e) =>
            e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 && e.EnumerateArray().All(t => t.ValueKind == JsonValueKind.Number);

        if (input.ValueKind == JsonValueKind.String)
        {
            return [(input.GetString()!, tokens.Count(input.GetString()!))];
        }

        if (IsTokenArray(input))
        {
            return [(input.GetRawText(), input.GetArrayLength())];
        }

        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            throw new BadRequestException("'input' must be a string or a non-empty array.", "input");
        }

        return [.. input.EnumerateArray().Select(item => item.ValueKind switch
        {
            JsonValueKind.String => (item.GetString()!, tokens.Count(item.GetString()!)),
            _ when IsTokenArray(item) => (item.GetRawText(), item.GetArrayLength()),
            _ => throw new BadRequestException("Each item of 'input' must be a string or an array of token ids.", "input"),
        })];
    }
}

/// <summary>What an embeddings request asks for; its prompt tokens are what the quota charges.</summary>
internal sealed record EmbeddingsRequest(IReadOnlyList<(string Text, int Tokens)> Inputs, int Dimensions, bool Base64)
{
    public int PromptTokens => Inputs.Sum(i => i.Tokens);
}
