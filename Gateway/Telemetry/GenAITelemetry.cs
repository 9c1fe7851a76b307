using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// The GenAI client spans: one per try of <c>forward-request</c> on a model operation, named and tagged after
/// OpenTelemetry's GenAI semantic conventions (docs/telemetry.md), so the Aspire dashboard's GenAI view shows them.
/// </summary>
internal static class GenAITelemetry
{
    public const string SourceName = "Gateway.GenAI";

    // The conventions' own names and values are GenAIConventions' (ServiceDefaults), shared with the mock accounts;
    // these are the gateway's own.

    /// <summary>The backend entity the try went to (a gateway attribute, as on the policy spans).</summary>
    public const string BackendId = "apim.backend.id";

    /// <summary>Which try of the request this was, from 1 (a <c>retry</c> makes several).</summary>
    public const string TryNumber = "apim.forward.try";

    public const string SubscriptionName = "apim.subscription.name";

    /// <summary>The event on a try that did not give the client its answer: why it ended.</summary>
    public const string TryFailedEvent = "apim.forward.try_failed";

    /// <summary>On <see cref="TryFailedEvent"/>: the seconds the backend's Retry-After (or retry-after-ms) asked for.</summary>
    public const string RetryAfter = "apim.backend.retry_after";

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
            return GenAIConventions.Chat;
        }

        if (operationId.EndsWith("Completions_Create", StringComparison.OrdinalIgnoreCase))
        {
            return GenAIConventions.TextCompletion;
        }

        return operationId.Contains("embeddings", StringComparison.OrdinalIgnoreCase) ? GenAIConventions.Embeddings : null;
    }
}
