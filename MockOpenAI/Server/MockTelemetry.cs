using System.Diagnostics;
using MockOpenAI.OpenAI;

namespace MockOpenAI.Server;

/// <summary>
/// The account's GenAI spans: each inference request is a SERVER span with OpenTelemetry's GenAI attributes (the
/// operation, the provider, the requested deployment and the model that answered, the usage, the finish reasons), as
/// the gateway's CLIENT span of the same call has them (docs/telemetry.md). Made only while a listener takes them.
/// </summary>
internal static class MockTelemetry
{
    public const string SourceName = "MockOpenAI";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The conventions' operation: the Responses API has no value of its own, and is a chat.</summary>
    public static string OperationOf(InferenceOperation operation) =>
        operation == InferenceOperation.Embeddings ? GenAIConventions.Embeddings : operation == InferenceOperation.Completions ? GenAIConventions.TextCompletion : GenAIConventions.Chat;

    /// <summary>Starts the request's span; null when nothing listens.</summary>
    public static Activity? Start(InferenceOperation operation)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var name = OperationOf(operation);
        return Source.StartActivity(name, ActivityKind.Server, parentContext: default, tags:
        [
            new(GenAIConventions.OperationName, name),
            new(GenAIConventions.ProviderName, GenAIConventions.Provider),
            new(GenAIConventions.System, GenAIConventions.Provider),
        ]);
    }

    /// <summary>Records what the account answered on the current request's span, if it has one.</summary>
    public static void Answered(string responseModel, string? responseId, int inputTokens, int? outputTokens, IEnumerable<string> finishReasons)
    {
        if (Activity.Current is not { } activity || activity.Source != Source)
        {
            return;
        }

        activity.SetTag(GenAIConventions.ResponseModel, responseModel);
        activity.SetTag(GenAIConventions.ResponseId, responseId);
        activity.SetTag(GenAIConventions.InputTokens, inputTokens);
        if (outputTokens is { } output)
        {
            activity.SetTag(GenAIConventions.OutputTokens, output);
        }

        var reasons = finishReasons.ToArray();
        if (reasons.Length > 0)
        {
            activity.SetTag(GenAIConventions.FinishReasons, reasons);
        }
    }

    /// <summary>Ends the span with the deployment the request named (its name then reads <c>chat gpt-4o</c>) and the status.</summary>
    public static void Completed(Activity activity, string? deployment, int status)
    {
        if (deployment is not null)
        {
            activity.SetTag(GenAIConventions.RequestModel, deployment);
            activity.DisplayName = activity.OperationName + " " + deployment;
        }

        activity.SetTag(GenAIConventions.StatusCode, status);
        if (status >= 400)
        {
            activity.SetTag(GenAIConventions.ErrorType, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Error);
        }

        activity.Stop();
    }
}
