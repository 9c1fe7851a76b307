using Gateway.Backends;
using Gateway.Pipeline;
using Gateway.Policies;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// <c>forward-request</c>'s engine: one pooled HTTP client for all backends, YARP's forwarder for the request and the
/// streamed response body. The policy's timeout is a deadline on the gateway's clock from the start of the send until
/// the response headers (a slow upload counts, a long stream after the headers does not), as in API Management; the
/// connection itself is dropped after <see cref="ForwardingOptions.IdleTimeout"/> without traffic.
/// </summary>
internal sealed class BackendForwarder(IHttpForwarder forwarder, IForwarderHttpClientFactory clientFactory, TimeProvider time, IOptions<ForwardingOptions> options, IConfiguration configuration)
{
    private const string Source = "forward-request";
    private const string TimeoutMessage = "Request to the backend service timed out";

    private readonly HttpMessageInvoker _client = BackendHttpClient.Create(clientFactory);
    private readonly Lazy<HttpMessageInvoker> _redirectingClient = new(() => BackendHttpClient.Create(new BackendClientFactory(BackendClientFactory.JoinsTraces(configuration), followRedirects: true)));

    public async Task ForwardAsync(RequestContext context, ForwardOptions forward, TimeSpan timeout, bool followRedirects = false)
    {
        var target = context.Target ?? ((context.Api as ApiInfo)?.Entity.ServiceUrl is { } serviceUrl ? new BackendTarget(null, serviceUrl) : null)
            ?? throw new PolicyExecutionException(Source, ErrorReasons.BackendNotSet, "No backend service is set: use set-backend-service or give the API a web service URL.");
        var credentials = target.Credentials;
        var query = credentials is { HasQuery: true } ? RequestContext.ToQueryString(credentials.WithQuery(context.Query)) : context.BuildQueryString();
        var destination = target.DestinationFor(context.OperationPath, query);

        // A previous attempt's response (under retry, or a second forward-request) is dropped and YARP has let go of
        // it before the next one starts; YARP forwards only while the response is untouched.
        context.ReplaceResponse(ResponseState.Empty());
        await context.AbandonedCallsSettled();
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.Headers.Clear();
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>() is { } feature)
        {
            feature.ReasonPhrase = null;
        }

        if (context.RequestBody.IsBuffered)
        {
            // The policy read or replaced the body: send what it holds now.
            context.RequestHeaders.Remove("Transfer-Encoding");
            context.RequestHeaders["Content-Length"] = [context.RequestBody.Content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            http.Request.Body = context.RequestBody.OpenRead();
            if (context.RequestBody.Content.Length > 0)
            {
                http.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(BufferedBodyDetection.Instance);
            }
        }

        // The policy changed the request's headers in place (RequestHeaders); the backend's credentials go on the
        // outgoing request only, so policies never see them.
        HeaderDictionary? credentialHeaders = null;
        if (credentials is not null)
        {
            try
            {
                credentialHeaders = [];
                await credentials.ApplyAsync(credentialHeaders, context.Services.ManagedIdentity, http.RequestAborted);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new PolicyExecutionException(Source, ErrorReasons.ManagedIdentityTokenFailure, $"Could not obtain a managed identity token for backend '{target.BackendId}': {ex.Message}", ex);
            }
        }

        if (forward.BufferRequestBody && !context.RequestBody.IsBuffered)
        {
            http.Request.EnableBuffering();
            http.Request.Body.Position = 0;
        }

        // Disposed by itself when YARP's send ends.
        var call = new BackendCall();
        var transformer = new PolicyTransformer(destination, call, forward, credentialHeaders);
        var config = new ForwarderRequestConfig
        {
            ActivityTimeout = options.Value.IdleTimeout,
            Version = forward.HttpVersion == BackendHttpVersion.Http1 ? System.Net.HttpVersion.Version11 : System.Net.HttpVersion.Version20,
            VersionPolicy = forward.HttpVersion == BackendHttpVersion.Http2OrHttp1 ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact,
        };
        var client = followRedirects ? _redirectingClient.Value : _client;
        using (call.StartDeadline(time, timeout))
        {
            call.Started(forwarder.SendAsync(http, target.Authority, client, config, transformer, call.DeadlinePassed).AsTask());
            // Until the headers come or the send ends without them (which cancels Headers).
            await ((Task)call.Headers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        if (call.Headers.IsCompletedSuccessfully)
        {
            var response = ResponseState.FromBackend(call.Headers.Result, call, forward.BufferResponse);
            context.ReplaceResponse(response);
            if (forward.FailOnErrorStatusCode && response.StatusCode is >= 400 and <= 599)
            {
                // The backend's response stays the current one: on-error sees it in context.Response, and it is what
                // the caller gets unless on-error answers otherwise.
                throw new PolicyExecutionException(Source, ErrorReasons.BackendResponseStatusCode, $"The backend service responded with status code {response.StatusCode}.") { Response = response };
            }

            return;
        }

        var error = await call.SendTask;
        if (call.TimedOut && !http.RequestAborted.IsCancellationRequested)
        {
            throw new PolicyExecutionException(Source, ErrorReasons.Timeout, TimeoutMessage);
        }

        if (call.BufferingFailure is var (reason, message))
        {
            throw new PolicyExecutionException(Source, reason, message);
        }

        throw error switch
        {
            // The idle timeout, under a policy timeout longer than it.
            ForwarderError.RequestTimedOut => new PolicyExecutionException(Source, ErrorReasons.Timeout, TimeoutMessage),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => new OperationCanceledException("The client closed the request."),

            // The client failed while sending its body (it went away, or sent a broken chunk): not the backend's
            // failure, so no circuit breaker counts it. YARP also reports this when the backend's failure cut the body's
            // copy short (it calls the order ambiguous); a client still connected whose body was not refused as
            // malformed did nothing wrong, and the backend's error is the cause.
            ForwarderError.RequestBodyClient when !BackendCutTheBodyShort(http) => new PolicyExecutionException(Source, ErrorReasons.ClientConnectionFailure, "The client's request body could not be read."),
            _ => new PolicyExecutionException(Source, ErrorReasons.BackendConnectionFailure, $"The backend service at {target.Authority} could not be reached ({error})."),
        };
    }

    /// <summary>
    /// Whether a body copy YARP blames on the client (<see cref="ForwarderError.RequestBodyClient"/>) was in fact cut
    /// short by the backend: the client is still connected, its body was not refused as malformed, and sending to the
    /// backend failed too (YARP reports both exceptions together).
    /// </summary>
    private static bool BackendCutTheBodyShort(HttpContext http) =>
        !http.RequestAborted.IsCancellationRequested
        && http.Features.Get<IForwarderErrorFeature>()?.Exception is AggregateException { InnerExceptions: [var body, HttpRequestException] }
        && body is not BadHttpRequestException;
}
