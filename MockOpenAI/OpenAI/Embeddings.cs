using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>Embeddings in Azure OpenAI's shape: one unit vector per input, as floats or base64 (little-endian float32).</summary>
internal static class Embeddings
{
    public static string Create(JsonElement body, string model, int modelDimensions)
    {
        if (!body.TryGetProperty("input", out var input))
        {
            throw new BadRequestException("'input' is a required property.", "input");
        }

        var inputs = input.ValueKind switch
        {
            JsonValueKind.String => [input.GetString()!],
            JsonValueKind.Array when input.GetArrayLength() > 0 => input.EnumerateArray().Select(i => i.ToString()).ToList(),
            _ => throw new BadRequestException("'input' must be a string or a non-empty array.", "input"),
        };

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
        var data = new JsonArray();
        var tokens = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = SyntheticText.Embedding(inputs[i], dimensions);
            tokens += SyntheticText.EstimateTokens(inputs[i]);
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())) : new JsonArray([.. vector.Select(v => (JsonNode)v)]),
            });
        }

        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        }.ToJsonString(MockJson.Options);
    }
}
