using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>JSON written as Azure OpenAI writes it: no escaping of '+', '/' or non-ASCII text (base64 embeddings depend on it).</summary>
internal static class MockJson
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>An immutable copy of <paramref name="node"/>, detached from any document, for keeping.</summary>
    public static JsonElement Freeze(JsonNode node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString(Options));
        return document.RootElement.Clone();
    }
}
