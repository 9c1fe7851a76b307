using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Identity;
using Gateway.Pipeline;
using Gateway.Policies;
using Gateway.Telemetry;

namespace Gateway.Forwarding;

/// <summary>
/// Sends the requests of <c>send-request</c> and <c>send-one-way-request</c> through one pooled client of the gateway's
/// <see cref="IHttpClientFactory"/>: no redirects, cookies, decompression or proxy, a 15 s connect timeout, none of the
/// factory's logs (which would carry the headers). The policy's timeout is a deadline on the gateway's clock for the whole call (for
/// <c>send-request</c>, the response body included, which is read into memory up to
/// <see cref="PolicyTransformer.MaxBufferedResponseBytes"/>). One-way requests run in the background, at most
/// <see cref="MaxOneWayInFlight"/> at a time; their failures are only logged.
/// </summary>
internal sealed partial class SendRequestClient(
    IHttpClientFactory clients,
    IManagedIdentityTokenProvider tokens,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<SendRequestClient> logger)
{
    public const string HttpClientName = "send-request";

    /// <summary>How many one-way requests may be under way at once; one more is dropped (and logged) rather than queued.</summary>
    public const int MaxOneWayInFlight = 100;

    private const string OneWaySource = "send-one-way-request";

    private int _oneWayInFlight;

    /// <summary>How many one-way requests are under way.</summary>
    public int OneWayInFlight => Volatile.Read(ref _oneWayInFlight);

    /// <summary>Registers the named client the policies send with.</summary>
    public static void Register(IServiceCollection services)
    {
        // The policy's deadline is applied here on the gateway's clock, so the client's own timeout is off.
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(15),
            })

            // The calls carry tokens and keys (Authorization, api-key). The factory's own logs would hand a provider the
            // headers themselves as structured state at Trace (only the formatted message is redacted), so they are off;
            // this class logs what a one-way call did, OpenTelemetry traces the calls (URL query redacted, no headers).
            .RemoveAllLoggers();
        services.AddSingleton<SendRequestClient>();
    }

    /// <summary>
    /// Sends <paramref name="request"/> and reads its whole response. A timeout or a failure to connect or read raises
    /// <see cref="ErrorReasons.BackendConnectionFailure"/> from <paramref name="source"/>; any status, 4xx and 5xx too, is a response.
    /// </summary>
    public async Task<ResponseState> SendAsync(PreparedRequest request, string source, CancellationToken aborted)
    {
        using var deadline = new CancellationTokenSource(request.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, aborted);
        try
        {
            using var message = await BuildAsync(request, linked.Token);
            using var response = await clients.CreateClient(HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            await response.Content.LoadIntoBufferAsync(PolicyTransformer.MaxBufferedResponseBytes, linked.Token);
            return ToResponse(response, await response.Content.ReadAsByteArrayAsync(linked.Token));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw new PolicyExecutionException(source, ErrorReasons.BackendConnectionFailure, $"The request to {request.Destination} timed out after {Seconds(request.Timeout)} seconds.");
        }
        catch (HttpRequestException ex)
        {
            throw new PolicyExecutionException(source, ErrorReasons.BackendConnectionFailure, $"The request to {request.Destination} failed: {ex.Message}", ex);
        }
    }

    /// <summary>Starts <paramref name="request"/> in the background and returns at once.</summary>
    public void SendOneWay(PreparedRequest request)
    {
        if (Interlocked.Increment(ref _oneWayInFlight) > MaxOneWayInFlight)
        {
            Interlocked.Decrement(ref _oneWayInFlight);
            Log.OneWayDropped(logger, request.Destination, MaxOneWayInFlight);
            return;
        }

        // Off the request's path entirely: even the token and the connection are the background's business.
        _ = Task.Run(() => SendOneWayAsync(request));
    }

    private async Task SendOneWayAsync(PreparedRequest request)
    {
        try
        {
            using var deadline = new CancellationTokenSource(request.Timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, lifetime.ApplicationStopping);
            using var message = await BuildAsync(request, linked.Token);

            // The response is not read, only awaited so that its status can be logged.
            using var response = await clients.CreateClient(HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            Log.OneWaySent(logger, request.Destination, (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Nobody waits for this request: its failure (a timeout, a refused connection, a token that could not be
            // had, the gateway stopping) is logged and goes no further.
            Log.OneWayFailed(logger, request.Destination, ex.GetType().Name, ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _oneWayInFlight);
        }
    }

    private async Task<HttpRequestMessage> BuildAsync(PreparedRequest request, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        try
        {
            if (request.Body is { } body)
            {
                message.Content = new ByteArrayContent(body);
            }

            foreach (var (name, values) in request.Headers)
            {
                if (!message.Headers.TryAddWithoutValidation(name, values))
                {
                    // A content header (Content-Type...): it needs a content, even an empty one.
                    message.Content ??= new ByteArrayContent([]);
                    message.Content.Headers.TryAddWithoutValidation(name, values);
                }
            }

            if (request.Identity is { } identity)
            {
                await AuthenticateAsync(message, identity, cancellationToken);
            }

            return message;
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    /// <summary>Sets <c>Authorization: Bearer</c> as <c>authentication-managed-identity</c> does (the token cached until it expires).</summary>
    private async Task AuthenticateAsync(HttpRequestMessage message, ManagedIdentityLogin identity, CancellationToken cancellationToken)
    {
        try
        {
            var token = await tokens.GetTokenAsync(identity.Resource, identity.ClientId, cancellationToken);
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (!identity.IgnoreError)
            {
                throw new PolicyExecutionException("authentication-managed-identity", ErrorReasons.ManagedIdentityTokenFailure, $"Could not obtain a managed identity token for '{identity.Resource}': {ex.Message}", ex);
            }

            // As the element's own ignore-error says: the request goes without a token.
        }
    }

    private static ResponseState ToResponse(HttpResponseMessage message, byte[] body)
    {
        var response = ResponseState.Empty();
        response.StatusCode = (int)message.StatusCode;
        response.StatusReason = message.ReasonPhrase ?? string.Empty;
        foreach (var (name, values) in message.Headers.NonValidated.Concat(message.Content.Headers.NonValidated))
        {
            if (!HopByHopHeaders.Contains(name))
            {
                response.Headers[name] = [.. values];
            }
        }

        response.Body = body;
        return response;
    }

    private static string Seconds(TimeSpan timeout) => timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.OneWayRequestSent, LogLevel.Debug, "send-one-way-request to {Destination} answered {StatusCode}")]
        public static partial void OneWaySent(ILogger logger, string destination, int statusCode);

        [LoggerMessage(LogEvents.OneWayRequestFailed, LogLevel.Warning, "send-one-way-request to {Destination} failed ({Error}): {Message}")]
        public static partial void OneWayFailed(ILogger logger, string destination, string error, string message);

        [LoggerMessage(LogEvents.OneWayRequestDropped, LogLevel.Warning, "send-one-way-request to {Destination} dropped: {Limit} one-way requests are already under way")]
        public static partial void OneWayDropped(ILogger logger, string destination, int limit);
    }
}
