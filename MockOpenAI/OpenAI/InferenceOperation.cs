namespace MockOpenAI.OpenAI;

/// <summary>
/// The inference operations of an account: the route under <c>/openai/deployments/{deployment}/</c> (null when the
/// operation exists only on the v1 surface), the route under <c>/openai/v1/</c>, and the names Azure uses in errors.
/// </summary>
internal sealed record InferenceOperation(string? Route, string V1Route, string OperationId, string Name)
{
    public static readonly InferenceOperation ChatCompletions = new("chat/completions", "chat/completions", "ChatCompletions_Create", "chatCompletion");
    public static readonly InferenceOperation Completions = new("completions", "completions", "Completions_Create", "completion");
    public static readonly InferenceOperation Embeddings = new("embeddings", "embeddings", "Embeddings_Create", "embeddings");
    public static readonly InferenceOperation Responses = new(null, "responses", "Responses_Create", "responses");

    public static readonly IReadOnlyList<InferenceOperation> All = [ChatCompletions, Completions, Embeddings, Responses];
}
