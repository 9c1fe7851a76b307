using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// YARP's forwarder client factory with forward-request's two choices on top of YARP's handler settings
/// (<see cref="BackendHttpClient"/>):
/// <list type="bullet">
/// <item>whether the call joins the request's trace. Only when the gateway exports its telemetry (an OTLP endpoint is
/// set, as the AppHost sets it): then HttpClient makes a client span for each call and the backend gets a
/// <c>traceparent</c> naming it. Otherwise no client span is made (nobody would see it), and the trace headers the client sent
/// go to the backend unchanged (YARP's pass-through proxy, <c>ActivityHeadersPropagator = null</c>), so a client's own
/// trace still reaches the backend;</item>
/// <item>whether it follows redirects (<c>forward-request follow-redirects="true"</c>).</item>
/// </list>
/// </summary>
internal sealed class BackendClientFactory(bool joinTraces, bool followRedirects = false) : ForwarderHttpClientFactory
{
    /// <summary>Whether forward-request's calls join the trace under <paramref name="configuration"/>: when telemetry is exported.</summary>
    public static bool JoinsTraces(IConfiguration configuration) => Microsoft.Extensions.Hosting.Extensions.ExportsTelemetry(configuration);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.AllowAutoRedirect = followRedirects;
        if (!joinTraces)
        {
            handler.ActivityHeadersPropagator = null;
        }
    }
}
