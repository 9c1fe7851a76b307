using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace MockOpenAI.OpenAI;

/// <summary>
/// Counts tokens as OpenAI does: o200k_base for the gpt-4o family and newer models, cl100k_base for older chat models
/// and the embedding models; chat prompts by OpenAI's per-message rule.
/// </summary>
internal sealed class TokenCounter
{
    /// <summary>Every message costs three tokens for its framing (<c>&lt;|start|&gt;role ... &lt;|end|&gt;</c>).</summary>
    public const int TokensPerMessage = 3;

    /// <summary>A message's <c>name</c> costs one token more than its text.</summary>
    public const int TokensPerName = 1;

    /// <summary>The reply is primed with <c>&lt;|start|&gt;assistant&lt;|message|&gt;</c>.</summary>
    public const int ReplyPriming = 3;

    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));
    private static readonly string[] O200kPrefixes = ["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"];

    private readonly Tokenizer _tokenizer;

    private TokenCounter(Tokenizer tokenizer, string encoding)
    {
        _tokenizer = tokenizer;
        Encoding = encoding;
    }

    /// <summary><c>o200k_base</c> or <c>cl100k_base</c>.</summary>
    public string Encoding { get; }

    public static TokenCounter ForModel(string model) =>
        O200kPrefixes.Any(p => model.StartsWith(p, StringComparison.OrdinalIgnoreCase))
            ? new TokenCounter(O200k.Value, "o200k_base")
            : new TokenCounter(Cl100k.Value, "cl100k_base");

    public int Count(string text) => text.Length == 0 ? 0 : LongText.Count(_tokenizer, text);

    /// <summary>
    /// <paramref name="text"/> cut where its tokens start, so the pieces join back into the text exactly. A token that
    /// starts inside a character another token began (bytes of one multi-byte character) joins that piece.
    /// </summary>
    public IReadOnlyList<string> Pieces(string text)
    {
        var starts = _tokenizer.EncodeToTokens(text, out _)
            .Select(t => t.Offset.Start.GetOffset(text.Length))
            .Where(start => start > 0 && start < text.Length)
            .Distinct()
            .Order()
            .ToList();
        var pieces = new List<string>(starts.Count + 1);
        var from = 0;
        foreach (var start in starts)
        {
            pieces.Add(text[from..start]);
            from = start;
        }

        if (from < text.Length)
        {
            pieces.Add(text[from..]);
        }

        return pieces;
    }

    /// <summary>
    /// The prompt tokens of a chat request: per message, three tokens plus the tokens of every field's text (one more
    /// for <c>name</c>), then three for the reply's priming.
    /// </summary>
    public int CountChat(JsonElement messages)
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

    /// <summary>Text as text; content parts by their text; anything else (tool calls, say) by its JSON.</summary>
    private int CountValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Count(value.GetString()!),
        JsonValueKind.Null => 0,
        JsonValueKind.Array => value.EnumerateArray().Sum(part =>
            part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                ? Count(text.GetString()!)
                : CountValue(part)),
        _ => Count(value.GetRawText()),
    };
}
