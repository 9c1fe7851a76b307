using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// The HTTP client <c>forward-request</c> sends with: YARP's forwarder client with no per-cluster settings (its
/// SocketsHttpHandler: no proxy, no automatic redirects, decompression or cookies, a 15 s connect timeout, several
/// HTTP/2 connections allowed), with what <see cref="BackendClientFactory"/> adds (trace context, redirects). One home,
/// so that the side-by-side benchmark's bare YARP (bench/SideBySide) sends with exactly the gateway's handler.
/// </summary>
internal static class BackendHttpClient
{
    public static HttpMessageInvoker Create(IForwarderHttpClientFactory factory) =>
        factory.CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });
}
