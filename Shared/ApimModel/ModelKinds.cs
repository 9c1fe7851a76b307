namespace Gateway.Apim.Model;

/// <summary>
/// The rule the topology and the mock accounts share for what a model does, by its name: embedding models by name
/// (<c>text-embedding-3-small</c>, <c>text-embedding-ada-002</c>), instruct and base models (<c>gpt-35-turbo-instruct</c>,
/// <c>davinci-002</c>, <c>babbage-002</c>) take text completions, the rest chat.
/// </summary>
internal static class ModelKinds
{
    public static ModelKind Of(string model) =>
        model.Contains("embedding", StringComparison.OrdinalIgnoreCase) ? ModelKind.Embeddings
        : model.Contains("instruct", StringComparison.OrdinalIgnoreCase) || model is "davinci-002" or "babbage-002" ? ModelKind.Completions
        : ModelKind.Chat;
}
