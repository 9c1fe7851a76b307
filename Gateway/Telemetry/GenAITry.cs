using System.Diagnostics;
using Gateway.Tokens;

namespace Gateway.Telemetry;

/// <summary>
/// One try of <c>forward-request</c> on a model operation: its CLIENT span (when a listener samples it) and what its
/// metrics need, from the send until its response was sent to the client, dropped for another try, or failed.
/// </summary>
internal sealed class GenAITry(Activity? activity, TimeProvider time, int number, string operation, string? requestModel, Backends.BackendTarget? target)
{
    private readonly long _started = time.GetTimestamp();
    private TimeSpan? _elapsed;

    public Activity? Activity => activity;

    public int Number => number;

    public string Operation => operation;

    public string? RequestModel => requestModel;

    public string? BackendId => target?.BackendId;

    public string? ServerAddress => target?.Url.Host;

    public int ServerPort => target?.Url.Port ?? 0;

    public long Started => _started;

    /// <summary>The backend's status, once it answered.</summary>
    public int? StatusCode { get; set; }

    /// <summary>The class of error the try ended with: an HTTP status of 400 or more, or a <c>LastError</c> reason.</summary>
    public string? ErrorType { get; set; }

    /// <summary>A sentence on the error (the span's status description); never a header or a key.</summary>
    public string? ErrorMessage { get; set; }

    /// <summary>Seconds the backend asked the caller to wait (Retry-After), when it failed and said so.</summary>
    public double? RetryAfterSeconds { get; set; }

    /// <summary>The backend's response, while it may still be the one the client gets.</summary>
    public Pipeline.ResponseState? Response { get; set; }

    public GenAIResponseFacts? Facts { get; set; }

    public string? ResponseModel => Facts?.Model;

    public TokenUsage? Usage => Facts?.Usage;

    /// <summary>From the send to the stream's first chunk going to the client (streams only).</summary>
    public TimeSpan? FirstChunk { get; set; }

    public bool Ended => _elapsed is not null;

    public TimeSpan Elapsed => _elapsed ?? time.GetElapsedTime(_started);

    /// <summary>Sets the span's attributes and status and stops it; false when it had already ended.</summary>
    public bool End(string? outputMessages)
    {
        if (_elapsed is not null)
        {
            return false;
        }

        _elapsed = time.GetElapsedTime(_started);
        if (activity is null)
        {
            return true;
        }

        if (StatusCode is { } status)
        {
            activity.SetTag(GenAIConventions.StatusCode, status);
        }

        if (Facts is { } facts)
        {
            activity.SetTag(GenAIConventions.ResponseModel, facts.Model);
            activity.SetTag(GenAIConventions.ResponseId, facts.Id);
            if (facts.FinishReasons.Count > 0)
            {
                activity.SetTag(GenAIConventions.FinishReasons, facts.FinishReasons.ToArray());
            }

            if (facts.Usage is { } usage)
            {
                activity.SetTag(GenAIConventions.InputTokens, usage.PromptTokens);
                if (operation != GenAIConventions.Embeddings)
                {
                    activity.SetTag(GenAIConventions.OutputTokens, usage.CompletionTokens);
                }
            }
        }

        if (outputMessages is not null)
        {
            activity.SetTag(GenAIConventions.OutputMessages, outputMessages);
        }

        if (ErrorType is { } error)
        {
            activity.SetTag(GenAIConventions.ErrorType, error);
            activity.SetStatus(ActivityStatusCode.Error, ErrorMessage ?? error);
            var tags = new ActivityTagsCollection { [GenAIConventions.ErrorType] = error };
            if (StatusCode is { } failedStatus)
            {
                tags[GenAIConventions.StatusCode] = failedStatus;
            }

            if (RetryAfterSeconds is { } wait)
            {
                tags[GenAITelemetry.RetryAfter] = wait;
            }

            activity.AddEvent(new ActivityEvent(GenAITelemetry.TryFailedEvent, tags: tags));
        }

        activity.Stop();
        return true;
    }
}
