using System.Text.Encodings.Web;
using System.Text.Json;

namespace MockOpenAI.OpenAI;

/// <summary>JSON written as Azure OpenAI writes it: no escaping of '+', '/' or non-ASCII text (base64 embeddings depend on it).</summary>
internal static class MockJson
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
