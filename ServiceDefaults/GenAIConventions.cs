namespace Microsoft.Extensions.Hosting;

/// <summary>
/// OpenTelemetry's GenAI semantic conventions, as the gateway's CLIENT spans and the mock accounts' SERVER spans both
/// write them (docs/telemetry.md has the sources): one home for the attribute names and the well-known values.
/// </summary>
public static class GenAIConventions
{
    /// <summary>
    /// The provider, as the conventions' well-known value for Azure OpenAI. Set both as <see cref="ProviderName"/> (the
    /// current name) and <see cref="System"/> (the older one): the Aspire dashboard shows a span in its GenAI view when
    /// either is set, and its earlier versions read only <c>gen_ai.system</c>.
    /// </summary>
    public const string Provider = "azure.ai.openai";

    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string System = "gen_ai.system";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string FinishReasons = "gen_ai.response.finish_reasons";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string TokenType = "gen_ai.token.type";
    public const string InputMessages = "gen_ai.input.messages";
    public const string OutputMessages = "gen_ai.output.messages";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ErrorType = "error.type";
    public const string StatusCode = "http.response.status_code";

    /// <summary>The operation values. The Responses API is <see cref="Chat"/>: the conventions define no value of their own for it.</summary>
    public const string Chat = "chat";
    public const string TextCompletion = "text_completion";
    public const string Embeddings = "embeddings";
}
