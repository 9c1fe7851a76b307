using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Forwarding;

/// <summary>
/// Says that the request to forward has a body, for a policy that gave one to a request that came without (a GET turned
/// into a POST by <c>set-method</c> and <c>set-body</c>): the server decided from the client's request that there is
/// none, and YARP would then send no content under the policy's <c>Content-Length</c>.
/// </summary>
internal sealed class BufferedBodyDetection : IHttpRequestBodyDetectionFeature
{
    public static readonly BufferedBodyDetection Instance = new();

    public bool CanHaveBody => true;
}
