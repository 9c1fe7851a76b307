using System.Runtime.CompilerServices;
using Gateway.Backends;
using Gateway.Forwarding;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>forward-request</c>: sends the request to the selected backend through YARP. The response is buffered unless
/// <c>buffer-response="false"</c> (API Management's default is to buffer), so a stream reaches the client as it arrives
/// only when the policy says so.
/// </summary>
internal sealed class ForwardRequestPolicy(ElementInfo info, ForwardOptions options) : PolicyElement(info)
{
    public ForwardOptions Options => options;

    /// <summary>API Management's default timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    public static PolicyElement Parse(ElementReader reader)
    {
        var seconds = reader.Value("timeout");
        var milliseconds = reader.Value("timeout-ms");
        if (seconds is not null && milliseconds is not null)
        {
            reader.Error("use either timeout or timeout-ms, not both");
        }

        var timeout = milliseconds ?? seconds;
        if (timeout is { IsExpression: false } && !TryParseTimeout(timeout.ToString(), out _))
        {
            reader.Error($"attribute '{(milliseconds is null ? "timeout" : "timeout-ms")}' of <forward-request> must be a whole number of at least 0, not '{timeout}'");
        }

        var bufferRequestBody = reader.Bool("buffer-request-body", false);
        var bufferResponse = reader.Bool("buffer-response", true);
        var failOnErrorStatusCode = reader.Bool("fail-on-error-status-code", false);
        var followRedirects = reader.Value("follow-redirects");
        if (followRedirects is { IsExpression: false } && !bool.TryParse(followRedirects.ToString(), out _))
        {
            reader.Error($"attribute 'follow-redirects' of <forward-request> must be true or false, not '{followRedirects}'");
        }

        var version = reader.Literal("http-version") switch
        {
            null or "1" => BackendHttpVersion.Http1,
            "2or1" => BackendHttpVersion.Http2OrHttp1,
            "2" => BackendHttpVersion.Http2,
            var other => Invalid(reader, other),
        };
        reader.Refuse("continue-timeout", reason: "Expect: 100-continue is not sent to backends");
        reader.Children();

        return new ForwardRequestPolicy(
            reader.Info,
            new ForwardOptions(timeout, milliseconds is not null, bufferRequestBody, bufferResponse, failOnErrorStatusCode, followRedirects, version));
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        // Null unless a listener takes the GenAI spans or metrics: then each execution is one try, with its span. The
        // path nobody observes is a method of its own, so that it carries nothing more across its await.
        var genAI = Telemetry.GenAIRequest.Of(context);
        return genAI is null ? ForwardAsync(context) : ForwardObservedAsync(context, genAI);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PolicyFlow> ForwardAsync(RequestContext context)
    {
        var timeout = TimeoutOf(context);
        var followRedirects = FollowRedirects(context);

        // A pool picks its member here, on every execution: a retry around forward-request may reach another one.
        var breaker = BackendSelection.Choose(context);
        var generation = breaker?.Generation;
        try
        {
            await context.Services.Forwarder.ForwardAsync(context, options, timeout, followRedirects);
        }
        catch (PolicyExecutionException ex)
        {
            Failed(context, breaker, ex, generation);
            throw;
        }

        Responded(context, breaker, generation);
        return PolicyFlow.Continue;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PolicyFlow> ForwardObservedAsync(RequestContext context, Telemetry.GenAIRequest genAI)
    {
        var timeout = TimeoutOf(context);
        var followRedirects = FollowRedirects(context);
        CircuitBreaker? breaker;
        try
        {
            breaker = BackendSelection.Choose(context);
        }
        catch (PolicyExecutionException ex)
        {
            genAI.Unavailable(ex);
            throw;
        }

        var generation = breaker?.Generation;
        genAI.Start(context.Target);
        try
        {
            await context.Services.Forwarder.ForwardAsync(context, options, timeout, followRedirects);
        }
        catch (PolicyExecutionException ex)
        {
            genAI.Failed(ex);
            Failed(context, breaker, ex, generation);
            throw;
        }

        genAI.Responded(context.Response);
        Responded(context, breaker, generation);
        return PolicyFlow.Continue;
    }

    /// <summary>
    /// Counts a try that got an answer: on the gateway page's traffic of the backend entity (nothing for a plain URL)
    /// and on its breaker.
    /// </summary>
    private static void Responded(RequestContext context, CircuitBreaker? breaker, int? generation)
    {
        Record(context, context.Response.StatusCode);
        breaker?.OnResponse(context.Response.StatusCode, context.Response.Headers, generation);
    }

    /// <summary>Counts a failed try the same way: its error response, or the reason it got none.</summary>
    private static void Failed(RequestContext context, CircuitBreaker? breaker, PolicyExecutionException error, int? generation)
    {
        Record(context, error.Response?.StatusCode);
        if (error.Response is { } response)
        {
            breaker?.OnResponse(response.StatusCode, response.Headers, generation);
        }
        else
        {
            breaker?.OnError(error.Reason, generation);
        }
    }

    private static void Record(RequestContext context, int? statusCode)
    {
        if (context.Target?.BackendId is { } backendId)
        {
            context.Services.Traffic.Record(backendId, statusCode);
        }
    }

    private static bool TryParseTimeout(string? text, out int value) =>
        int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 0;

    private static BackendHttpVersion Invalid(ElementReader reader, string value)
    {
        reader.Error($"attribute 'http-version' of <forward-request> must be 1, 2or1 or 2, not '{value}'");
        return BackendHttpVersion.Http1;
    }

    private bool FollowRedirects(RequestContext context)
    {
        if (options.FollowRedirects is null)
        {
            return false;
        }

        var text = options.FollowRedirects.EvaluateString(context, Name);
        return bool.TryParse(text, out var follow)
            ? follow
            : throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"follow-redirects must be true or false, not '{text}'.");
    }

    private TimeSpan TimeoutOf(RequestContext context)
    {
        if (options.Timeout is null)
        {
            return DefaultTimeout;
        }

        var text = options.Timeout.EvaluateString(context, Name);
        return !TryParseTimeout(text, out var value)
            ? throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"The timeout must be a whole number of at least 0, not '{text}'.")
            : options.TimeoutInMilliseconds ? TimeSpan.FromMilliseconds(value) : TimeSpan.FromSeconds(value);
    }
}
