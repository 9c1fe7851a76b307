namespace Gateway.Tokens;

/// <summary>The tokens one call to a model consumed.</summary>
/// <param name="PromptTokens">The prompt's tokens.</param>
/// <param name="CompletionTokens">The generated tokens.</param>
/// <param name="TotalTokens">Both together, as the model reports them.</param>
/// <param name="Estimated">Whether the gateway counted them itself (a stream without a usage chunk) rather than reading the model's <c>usage</c>.</param>
internal sealed record TokenUsage(long PromptTokens, long CompletionTokens, long TotalTokens, bool Estimated)
{
    public static TokenUsage Estimate(long promptTokens, long completionTokens) =>
        new(promptTokens, completionTokens, promptTokens + completionTokens, Estimated: true);
}
