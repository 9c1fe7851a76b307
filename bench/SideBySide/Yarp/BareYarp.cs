using System.Net;
using Gateway.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Bench.SideBySide.Yarp;

/// <summary>
/// YARP's <see cref="IHttpForwarder"/> alone: every request forwarded to <c>Backend</c> (a URL) with the gateway's own
/// HTTP client (<see cref="BackendHttpClient"/>, from the gateway's <see cref="BackendClientFactory"/> as the gateway
/// makes it when it exports nothing: no client span, trace headers passed through) and the gateway's default
/// forward-request (HTTP/1.1, 120 s), no policy, no telemetry. The floor any gateway built on YARP can reach on this
/// machine.
/// </summary>
internal static class BareYarp
{
    public const string Role = "yarp";

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var destination = app.Configuration["Backend"] ?? throw new InvalidOperationException("Give the backend's URL: --Backend=http://...");
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        // The factory the gateway registers (AddHttpForwarder registers none), so the handler is the gateway's; like
        // the gateway without an OTLP endpoint, it does not join traces.
        var client = BackendHttpClient.Create(new BackendClientFactory(joinTraces: false));
        var config = new ForwarderRequestConfig
        {
            ActivityTimeout = TimeSpan.FromSeconds(120),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        // YARP answers 502/504 itself when the backend fails.
        app.Map("/{**path}", async context => { await forwarder.SendAsync(context, destination, client, config); });
        await app.RunAsync();
        return 0;
    }
}
