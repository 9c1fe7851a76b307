using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Gateway.Tokens;

/// <summary>
/// Counts tokens the way the model does, offline: o200k_base for the gpt-4o family and newer models, cl100k_base for
/// older chat models, the embedding models and any model the gateway does not recognise. Chat prompts follow OpenAI's
/// per-message rule (as the mock accounts do), and an image costs what API Management charges for it.
/// </summary>
internal sealed class TokenCounter
{
    /// <summary>Every message costs three tokens for its framing (<c>&lt;|start|&gt;role ... &lt;|end|&gt;</c>).</summary>
    public const int TokensPerMessage = 3;

    /// <summary>A message's <c>name</c> costs one token more than its text.</summary>
    public const int TokensPerName = 1;

    /// <summary>The reply is primed with <c>&lt;|start|&gt;assistant&lt;|message|&gt;</c>.</summary>
    public const int ReplyPriming = 3;

    /// <summary>API Management counts each image of a prompt as at most this many tokens when it estimates.</summary>
    public const int TokensPerImage = 1200;

    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));
    private static readonly string[] O200kPrefixes = ["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"];

    private readonly Lazy<Tokenizer> _tokenizer;

    private TokenCounter(Lazy<Tokenizer> tokenizer, string encoding)
    {
        _tokenizer = tokenizer;
        Encoding = encoding;
    }

    /// <summary><c>o200k_base</c> or <c>cl100k_base</c>.</summary>
    public string Encoding { get; }

    /// <summary>The counter for a model or deployment name; cl100k_base when the name is unknown.</summary>
    public static TokenCounter ForModel(string? model) =>
        model is not null && O200kPrefixes.Any(p => model.StartsWith(p, StringComparison.OrdinalIgnoreCase))
            ? new TokenCounter(O200k, "o200k_base")
            : new TokenCounter(Cl100k, "cl100k_base");

    public int Count(string text) => text.Length == 0 ? 0 : LongText.Count(_tokenizer.Value, text);

    /// <summary>
    /// The prompt tokens of chat messages: per message, three tokens plus the tokens of every field's text (one more
    /// for <c>name</c>), then three for the reply's priming.
    /// </summary>
    public int CountMessages(JsonElement messages)
    {
        var total = ReplyPriming;
        foreach (var message in messages.EnumerateArray())
        {
            total += TokensPerMessage;
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var field in message.EnumerateObject())
            {
                total += CountValue(field.Value);
                if (field.NameEquals("name"))
                {
                    total += TokensPerName;
                }
            }
        }

        return total;
    }

    /// <summary>
    /// An input as the completions, embeddings and responses operations take it: text, texts, token ids, arrays of
    /// token ids, or (responses) messages.
    /// </summary>
    public int CountInput(JsonElement input) => input.ValueKind switch
    {
        JsonValueKind.String => Count(input.GetString()!),
        JsonValueKind.Array => input.EnumerateArray().Sum(item => item.ValueKind switch
        {
            JsonValueKind.Number => 1,
            JsonValueKind.Array => item.GetArrayLength(),
            JsonValueKind.Object => TokensPerMessage + item.EnumerateObject().Sum(field => CountValue(field.Value)),
            _ => CountValue(item),
        }),
        _ => 0,
    };

    /// <summary>Text as text; content parts by their text (an image at API Management's flat rate); anything else by its JSON.</summary>
    private int CountValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Count(value.GetString()!),
        JsonValueKind.Null => 0,
        JsonValueKind.Array => value.EnumerateArray().Sum(CountPart),
        _ => Count(value.GetRawText()),
    };

    private int CountPart(JsonElement part)
    {
        if (part.ValueKind != JsonValueKind.Object)
        {
            return CountValue(part);
        }

        if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
        {
            return Count(text.GetString()!);
        }

        return part.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() is "image_url" or "input_image"
            ? TokensPerImage
            : Count(part.GetRawText());
    }
}
