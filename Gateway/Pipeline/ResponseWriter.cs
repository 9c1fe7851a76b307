using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Pipeline;

/// <summary>Sends the response the policy settled on: the backend's (streamed by YARP) or one built in memory.</summary>
internal static class ResponseWriter
{
    /// <summary>Returns YARP's error when streaming a backend body failed midway (the client then sees a cut response).</summary>
    public static async Task<ForwarderError> WriteAsync(RequestContext context)
    {
        var response = context.Response;
        if (response.BackendCall is { } call && response.Body is null)
        {
            var error = await call.CompleteAsync(response);
            await context.AbandonedCallsSettled();
            return error;
        }

        if (response.BackendCall is { } consumed)
        {
            // A policy read the backend's body without preserving it: the caller gets what the policy left.
            await consumed.Discard();
        }

        await context.AbandonedCallsSettled();
        await WriteAsync(context.HttpContext, response);
        return ForwarderError.None;
    }

    public static async Task WriteAsync(HttpContext http, ResponseState state)
    {
        var response = http.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = state.StatusCode;
        if (http.Features.Get<IHttpResponseFeature>() is { } feature)
        {
            feature.ReasonPhrase = state.StatusReason;
        }

        response.Headers.Clear();
        foreach (var (name, values) in state.Headers)
        {
            response.Headers[name] = values;
        }

        if (state.Body is { } body)
        {
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, http.RequestAborted);
        }
        else
        {
            response.ContentLength = 0;
        }
    }
}
