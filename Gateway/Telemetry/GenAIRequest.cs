using System.Diagnostics;
using System.Text.Json;
using Gateway.Backends;
using Gateway.Pipeline;
using Gateway.Policies;

namespace Gateway.Telemetry;

/// <summary>
/// The GenAI telemetry of one request on a model operation, kept in its <see cref="RequestContext"/> slot: every try
/// of <c>forward-request</c> (a <c>retry</c> makes several, maybe to other backends) is a CLIENT span and a set of
/// measurements. A try ends when it fails, when the next one starts (its response is then dropped), or once the
/// response has been sent; a streamed answer is read as it goes to the client (<see cref="GenAIResponseTap"/>).
/// Made only while a listener takes the spans or the metrics, so that a gateway nobody observes pays nothing.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The tap only wraps the request's own response stream, which the server disposes; it holds nothing else.")]
internal sealed class GenAIRequest
{
    private readonly RequestContext _context;
    private readonly GenAIMetrics _metrics;
    private readonly bool _capture;
    private readonly string _operation;
    private readonly string? _requestModel;
    private readonly string? _inputMessages;
    private readonly GenAIResponseTap _tap;
    private GenAITry? _current;
    private int _tries;

    private GenAIRequest(RequestContext context, string operation)
    {
        _context = context;
        _metrics = context.Services.GenAIMetrics;
        _capture = context.Services.GenAIOptions.CaptureMessageContent;
        _operation = operation;
        _requestModel = context.MatchedParameters.TryGetValue("deployment-id", out var deployment) ? deployment : null;
        if (context.RequestBody.IsBuffered && (_requestModel is null || _capture))
        {
            // The body is read only when the policy has read it already: telemetry never buffers a streamed upload.
            try
            {
                using var document = JsonDocument.Parse(context.RequestBody.Content);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    _requestModel ??= document.RootElement.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null;
                    _inputMessages = _capture ? GenAIMessages.Input(document.RootElement, operation) : null;
                }
            }
            catch (JsonException)
            {
                // Not JSON: the backend will say so.
            }
        }

        var http = context.HttpContext;
        _tap = new GenAIResponseTap(http.Response.Body, () => http.Response.ContentType, context.Services.Time, _capture);
        http.Response.Body = _tap;
        context.OnResponseSent(Sent);
    }

    /// <summary>The request's GenAI telemetry; null when nothing listens or the operation calls no model.</summary>
    public static GenAIRequest? Of(RequestContext context)
    {
        if (!GenAITelemetry.Source.HasListeners() && !context.Services.GenAIMetrics.Enabled)
        {
            return null;
        }

        if (context.TryGetSlot<GenAIRequest>(out var existing))
        {
            return existing;
        }

        if (GenAITelemetry.OperationOf(context.Operation.Id) is not { } operation)
        {
            return null;
        }

        var request = new GenAIRequest(context, operation);
        context.SetSlot(request);
        return request;
    }

    /// <summary>A try begins: the previous one, if still open, ends (its response is dropped for this one).</summary>
    public void Start(BackendTarget? target)
    {
        var attempt = Begin(target);
        if (attempt.Number > 1)
        {
            _metrics.Retried(target?.BackendId);
        }

        _current = attempt;
    }

    /// <summary>The try's backend answered (the policy goes on with this response, which may yet be dropped).</summary>
    public void Responded(ResponseState response)
    {
        if (_current is not { } attempt)
        {
            return;
        }

        attempt.StatusCode = response.StatusCode;
        attempt.Response = response;
        if (response.StatusCode >= 400)
        {
            Failed(attempt, response, $"The backend answered {response.StatusCode}.");
        }

        if (response is { BackendBodyBuffered: true, BackendCall.Headers.IsCompletedSuccessfully: true })
        {
            try
            {
                var body = response.BackendCall.Headers.Result.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
                attempt.Facts = new GenAIResponseFacts(_capture);
                attempt.Facts.ReadBody(body);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or HttpRequestException)
            {
                // A body that cannot be read again tells nothing.
            }
        }
    }

    /// <summary>The try failed (no response, or <c>fail-on-error-status-code</c>): it ends now.</summary>
    public void Failed(PolicyExecutionException error)
    {
        if (_current is not { } attempt)
        {
            return;
        }

        if (error.Response is { } response)
        {
            attempt.StatusCode = response.StatusCode;
            Failed(attempt, response, error.Message);
        }
        else
        {
            attempt.ErrorType = error.Reason;
            attempt.ErrorMessage = error.Message;
        }

        End(attempt);
    }

    /// <summary>No backend could be chosen (every circuit breaker tripped): a try that went nowhere, ended at once.</summary>
    public void Unavailable(PolicyExecutionException error)
    {
        var attempt = Begin(target: null);
        attempt.StatusCode = error.Response?.StatusCode;
        attempt.ErrorType = error.Reason;
        attempt.ErrorMessage = error.Message;
        if (_context.Variables.TryGetValue(BackendSelection.RetryAfterVariable, out var seconds) && seconds is int wait)
        {
            attempt.RetryAfterSeconds = wait;
        }

        End(attempt);
    }

    private GenAITry Begin(BackendTarget? target)
    {
        if (_current is { } previous)
        {
            End(previous);
        }

        _tries++;
        Activity? activity = null;
        if (GenAITelemetry.Source.HasListeners())
        {
            var name = _requestModel is null ? _operation : _operation + " " + _requestModel;
            activity = GenAITelemetry.Source.StartActivity(name, ActivityKind.Client, parentContext: default, tags:
            [
                new(GenAIConventions.OperationName, _operation),
                new(GenAIConventions.ProviderName, GenAIConventions.Provider),
                new(GenAIConventions.System, GenAIConventions.Provider),
                new(GenAIConventions.RequestModel, _requestModel),
                new(GenAITelemetry.TryNumber, _tries),
            ]);
            if (activity is not null)
            {
                if (target is not null)
                {
                    activity.SetTag(GenAIConventions.ServerAddress, target.Url.Host);
                    activity.SetTag(GenAIConventions.ServerPort, target.Url.Port);
                    activity.SetTag(GenAITelemetry.BackendId, target.BackendId);
                }

                if (_inputMessages is not null)
                {
                    activity.SetTag(GenAIConventions.InputMessages, _inputMessages);
                }
            }
        }

        return new GenAITry(activity, _context.Services.Time, _tries, _operation, _requestModel, target);
    }

    private void Failed(GenAITry attempt, ResponseState response, string message)
    {
        attempt.ErrorType = response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        attempt.ErrorMessage = message;
        if (CircuitBreaker.RetryAfter(response.Headers, _context.Services.Time.GetUtcNow()) is { } wait)
        {
            attempt.RetryAfterSeconds = wait.TotalSeconds;
        }
    }

    /// <summary>The response has gone to the client (or the client left): the last try ends with what it streamed.</summary>
    private void Sent()
    {
        if (_current is not { Ended: false } attempt)
        {
            return;
        }

        if (attempt.StatusCode is null && attempt.ErrorType is null)
        {
            // The client left before the backend answered.
            attempt.ErrorType = ErrorReasons.ClientConnectionFailure;
        }

        if (ReferenceEquals(_context.Response, attempt.Response) && attempt.Response is { BackendBodyBuffered: false, Body: null })
        {
            attempt.Facts = _tap.Facts() ?? attempt.Facts;
            if (_tap.Streamed && _tap.FirstWrite is { } first)
            {
                attempt.FirstChunk = _context.Services.Time.GetElapsedTime(attempt.Started, first);
            }
        }

        End(attempt);
    }

    private void End(GenAITry attempt)
    {
        var sentToClient = ReferenceEquals(_context.Response, attempt.Response);
        if (attempt.End(_capture && sentToClient ? attempt.Facts?.OutputMessages() : null))
        {
            _metrics.TryEnded(attempt, _context.Subscription?.Name);
        }
    }
}
