namespace MockOpenAI.OpenAI;

/// <summary>The inference operations of an account, with the names Azure uses for them in errors.</summary>
internal sealed record InferenceOperation(string Route, string OperationId, string Name)
{
    public static readonly InferenceOperation ChatCompletions = new("chat/completions", "ChatCompletions_Create", "chatCompletion");
    public static readonly InferenceOperation Completions = new("completions", "Completions_Create", "completion");
    public static readonly InferenceOperation Embeddings = new("embeddings", "Embeddings_Create", "embeddings");

    public static readonly IReadOnlyList<InferenceOperation> All = [ChatCompletions, Completions, Embeddings];
}
