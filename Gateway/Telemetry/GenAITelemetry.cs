using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// The GenAI client spans: one per try of <c>forward-request</c> on a model operation, named and tagged after
/// OpenTelemetry's GenAI semantic conventions (docs/telemetry.md), so the Aspire dashboard's GenAI view shows them.
/// </summary>
internal static class GenAITelemetry
{
    public const string SourceName = "Gateway.GenAI";

    /// <summary>
    /// The provider, as the conventions' well-known value for Azure OpenAI. Set both as <c>gen_ai.provider.name</c> (the
    /// current name) and <c>gen_ai.system</c> (the older one): the Aspire dashboard shows a span in its GenAI view when
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

    /// <summary>The backend entity the try went to (a gateway attribute, as on the policy spans).</summary>
    public const string BackendId = "apim.backend.id";

    /// <summary>Which try of the request this was, from 1 (a <c>retry</c> makes several).</summary>
    public const string TryNumber = "apim.forward.try";

    public const string SubscriptionName = "apim.subscription.name";

    /// <summary>The event on a try that did not give the client its answer: why it ended.</summary>
    public const string TryFailedEvent = "apim.forward.try_failed";

    /// <summary>On <see cref="TryFailedEvent"/>: the seconds the backend's Retry-After (or retry-after-ms) asked for.</summary>
    public const string RetryAfter = "apim.backend.retry_after";

    public const string Chat = "chat";
    public const string TextCompletion = "text_completion";
    public const string Embeddings = "embeddings";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The conventions' operation for an operation of the API definition, or null when it calls no model (a stored
    /// response, the model list). The Responses API is <c>chat</c>: the conventions define no value of their own for it,
    /// and a predefined value that applies must be used.
    /// </summary>
    public static string? OperationOf(string operationId)
    {
        if (operationId.Contains("ChatCompletions", StringComparison.OrdinalIgnoreCase)
            || operationId.EndsWith("Responses_Create", StringComparison.OrdinalIgnoreCase))
        {
            return Chat;
        }

        if (operationId.EndsWith("Completions_Create", StringComparison.OrdinalIgnoreCase))
        {
            return TextCompletion;
        }

        return operationId.Contains("embeddings", StringComparison.OrdinalIgnoreCase) ? Embeddings : null;
    }
}
