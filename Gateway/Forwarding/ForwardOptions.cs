using Gateway.Policies;

namespace Gateway.Forwarding;

/// <summary>The attributes of one <c>forward-request</c>.</summary>
/// <param name="Timeout">How long to wait for the response headers: <c>timeout</c> (seconds) or <c>timeout-ms</c>, literal or expression; null for API Management's 300 seconds.</param>
/// <param name="TimeoutInMilliseconds">Whether <paramref name="Timeout"/> is <c>timeout-ms</c>.</param>
/// <param name="BufferRequestBody">Whether the request body is kept so a retry can send it again.</param>
/// <param name="BufferResponse">Whether the whole response is read before outbound runs (API Management's default).</param>
/// <param name="FailOnErrorStatusCode">Whether a 400-599 response from the backend goes to on-error.</param>
/// <param name="FollowRedirects">Whether the gateway follows the backend's redirects instead of returning them: <c>true</c>/<c>false</c>, literal or expression.</param>
/// <param name="HttpVersion">The HTTP version used towards the backend.</param>
internal sealed record ForwardOptions(
    PolicyValue? Timeout,
    bool TimeoutInMilliseconds,
    bool BufferRequestBody,
    bool BufferResponse,
    bool FailOnErrorStatusCode = false,
    PolicyValue? FollowRedirects = null,
    BackendHttpVersion HttpVersion = BackendHttpVersion.Http1);

/// <summary><c>http-version</c>: <c>1</c> (the default), <c>2or1</c> (HTTP/2 preferred) or <c>2</c> (HTTP/2 only).</summary>
internal enum BackendHttpVersion
{
    Http1,
    Http2OrHttp1,
    Http2,
}
