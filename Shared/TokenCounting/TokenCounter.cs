namespace TokenCounting;

/// <summary>
/// Counts tokens the way the model does, offline: o200k_base for the gpt-4o family and newer models, cl100k_base for
/// older chat models, the embedding models and any model not recognised. Each encoding is loaded once, on its first
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

    private static readonly string[] O200kPrefixes = ["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"];
    private static readonly TokenCounter O200k = new(() => BytePairEncoding.O200k, "o200k_base");
    private static readonly TokenCounter Cl100k = new(() => BytePairEncoding.Cl100k, "cl100k_base");

    private readonly Func<BytePairEncoding> _encoding;

    private TokenCounter(Func<BytePairEncoding> encoding, string name)
    {
        _encoding = encoding;
        Encoding = name;
    }

    /// <summary><c>o200k_base</c> or <c>cl100k_base</c>.</summary>
    public string Encoding { get; }

    /// <summary>The counter for a model or deployment name; cl100k_base when the name is unknown.</summary>
    public static TokenCounter ForModel(string? model)
    {
        foreach (var prefix in O200kPrefixes)
        {
            if (model?.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) == true)
            {
                return O200k;
            }
        }

        return Cl100k;
    }

    public int Count(string text) => text.Length == 0 ? 0 : LongText.Count(_encoding(), text);

    /// <summary>
    /// <paramref name="text"/> cut where its tokens start, so the pieces join back into the text exactly. A token that
    /// starts inside a character another token began (bytes of one multi-byte character) joins that piece.
    /// </summary>
    public IReadOnlyList<string> Pieces(string text)
    {
        var tokens = new List<(int Rank, int Start)>();
        _encoding().Encode(text, tokens);
        var starts = tokens.Select(t => t.Start).Where(start => start > 0).Distinct().ToList();
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
