using Gateway.Policies;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Lets YARP send the request as the policy shaped it, and holds the backend's response until the policy has decided
/// what the client gets.
/// </summary>
internal sealed class PolicyTransformer(Uri destination, BackendCall call, ForwardOptions options, IHeaderDictionary? credentials = null) : HttpTransformer
{
    /// <summary>The largest response <c>forward-request</c> buffers in memory.</summary>
    public const long MaxBufferedResponseBytes = 64L * 1024 * 1024;

    private static readonly HeaderDictionary EmptyHeaders = [];

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = destination;

        // The backend gets its own host name, never the gateway's.
        proxyRequest.Headers.Host = null;

        // The backend's credentials (topology.json) win over any header of the same name the policy left.
        foreach (var (name, values) in credentials ?? EmptyHeaders)
        {
            System.Net.Http.Headers.HttpHeaders? target = IsContentHeader(name) ? proxyRequest.Content?.Headers : proxyRequest.Headers;
            target?.Remove(name);
            target?.TryAddWithoutValidation(name, (IEnumerable<string>)values);
        }
    }

    // The headers .NET keeps on the content rather than the request (HttpContentHeaders); either collection refuses the other's.
    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Allow", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Expires", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase);

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
                call.BufferingFailed(ErrorReasons.Timeout, "Request to the backend service timed out");
                throw;
            }
            catch (HttpRequestException ex)
            {
                call.BufferingFailed(ErrorReasons.BackendConnectionFailure, $"Reading the backend response failed: {ex.Message}");
                throw;
            }
        }

        var final = await call.OnHeadersAsync(proxyResponse);
        if (final is null)
        {
            return false;
        }

        if (final.BodyFilter is { } filter)
        {
            // YARP reads the body from the response's content after this transform.
            proxyResponse.Content = new FilteredContent(proxyResponse.Content, filter);
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
