using Microsoft.ML.Tokenizers;

namespace TokenCounting;

/// <summary>
/// Counts tokens the way the model does, offline: o200k_base for the gpt-4o family and newer models, cl100k_base for
/// older chat models, the embedding models and any model not recognised. Each tokenizer is created once, on its first
/// count. How a prompt is counted is a rule of its own: <see cref="ApimPromptEstimate"/> (the gateway) and
/// <see cref="AzureOpenAIPromptBilling"/> (the mock accounts).
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
    /// <paramref name="text"/> cut where its tokens start, so the pieces join back into the text exactly. A token that
    /// starts inside a character another token began (bytes of one multi-byte character) joins that piece.
    /// </summary>
    public IReadOnlyList<string> Pieces(string text)
    {
        var starts = _tokenizer.Value.EncodeToTokens(text, out _)
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
}
