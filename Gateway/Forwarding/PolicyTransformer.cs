using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Lets YARP send the request as the policy shaped it, and holds the backend's response until the policy has decided
/// what the client gets.
/// </summary>
internal sealed class PolicyTransformer(Uri destination, BackendCall call, ForwardOptions options) : HttpTransformer
{
    /// <summary>The largest response <c>forward-request</c> buffers in memory.</summary>
    public const long MaxBufferedResponseBytes = 64L * 1024 * 1024;

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = destination;

        // The backend gets its own host name, never the gateway's.
        proxyRequest.Headers.Host = null;
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null || !call.HeadersArrived())
        {
            // No response, or one that came after the deadline: the call has already failed with a timeout.
            return false;
        }

        if (options.BufferResponse)
        {
            try
            {
                await proxyResponse.Content.LoadIntoBufferAsync(MaxBufferedResponseBytes, cancellationToken);
            }
            catch (OperationCanceledException) when (!httpContext.RequestAborted.IsCancellationRequested)
            {
                // The body stopped arriving for the idle timeout (the deadline ended with the headers).
                call.BufferingFailed("Timeout", "Request to the backend service timed out");
                throw;
            }
            catch (HttpRequestException ex)
            {
                call.BufferingFailed("BackendConnectionFailure", $"Reading the backend response failed: {ex.Message}");
                throw;
            }
        }

        var final = await call.OnHeadersAsync(proxyResponse);
        if (final is null)
        {
            return false;
        }

        var response = httpContext.Response;
        response.StatusCode = final.StatusCode;
        if (httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>() is { } feature)
        {
            feature.ReasonPhrase = final.StatusReason;
        }

        response.Headers.Clear();
        foreach (var (name, values) in final.Headers)
        {
            response.Headers[name] = values;
        }

        return true;
    }
}
