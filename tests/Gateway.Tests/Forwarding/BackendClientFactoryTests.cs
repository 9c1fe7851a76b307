using System.Diagnostics;
using Gateway.Forwarding;
using Gateway.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Forwarding;

public sealed class BackendClientFactoryTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync().WaitAsync(TestTimeouts.Request);

    public async Task DisposeAsync() => await _backend.DisposeAsync().AsTask().WaitAsync(TestTimeouts.Request);

    [Fact]
    public async Task WithoutJoiningTraces_TheClientsTraceHeadersReachTheBackendUnchanged()
    {
        var incoming = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";

        var (received, _) = await SendUnderTheRequestsSpanAsync(new BackendClientFactory(joinTraces: false), incoming, "/pass-through");

        Assert.Equal(incoming, received.Headers["traceparent"]);
    }

    [Fact]
    public async Task WithoutJoiningTraces_NoTraceHeaderIsAdded()
    {
        var (received, _) = await SendUnderTheRequestsSpanAsync(new BackendClientFactory(joinTraces: false), traceparent: null, "/none-added");

        Assert.False(received.Headers.ContainsKey("traceparent"));
    }

    [Fact]
    public async Task JoiningTraces_TheBackendGetsTheCallsOwnSpanInTheSameTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();

        var (received, requestSpan) = await SendUnderTheRequestsSpanAsync(new BackendClientFactory(joinTraces: true), $"00-{traceId}-{clientSpan}-01", "/joined");

        // The trace goes on, and the parent is neither the client's span nor the request's: the call's own.
        var parts = received.Headers["traceparent"].Split('-');
        Assert.Equal(traceId.ToHexString(), parts[1]);
        Assert.NotEqual(clientSpan.ToHexString(), parts[2]);
        Assert.NotEqual(requestSpan.ToHexString(), parts[2]);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("  ", false)]
    [InlineData("http://localhost:4317", true)]
    public void JoinsTraces_OnlyWhenTelemetryIsExported(string? otlpEndpoint, bool joins)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("OTEL_EXPORTER_OTLP_ENDPOINT", otlpEndpoint)]).Build();

        Assert.Equal(joins, BackendClientFactory.JoinsTraces(configuration));
    }

    [Theory]
    [InlineData(false, 302)]
    [InlineData(true, 200)]
    public async Task FollowsRedirects_OnlyWhenAsked(bool followRedirects, int status)
    {
        _backend.Statuses.Enqueue(302);
        using var client = BackendHttpClient.Create(new BackendClientFactory(joinTraces: false, followRedirects));

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, _backend.Url + "/moved"), CancellationToken.None).WaitAsync(TestTimeouts.Request);

        Assert.Equal(status, (int)response.StatusCode);
    }

    /// <summary>
    /// Sends as YARP forwards under the gateway: inside the request's span (which ASP.NET Core starts for every request),
    /// with the client's <c>traceparent</c> copied onto the outgoing request. Gives what the backend received and the
    /// request span's id.
    /// </summary>
    private async Task<(RecordedRequest Received, ActivitySpanId RequestSpan)> SendUnderTheRequestsSpanAsync(BackendClientFactory factory, string? traceparent, string path)
    {
        using var client = BackendHttpClient.Create(factory);
        using var span = new Activity("request");
        if (traceparent is not null)
        {
            span.SetParentId(traceparent);
        }

        span.Start();
        using var request = new HttpRequestMessage(HttpMethod.Post, _backend.Url + path) { Content = new StringContent("{}") };
        if (traceparent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }

        using var response = await client.SendAsync(request, CancellationToken.None).WaitAsync(TestTimeouts.Request);
        response.EnsureSuccessStatusCode();
        return (await _backend.ArrivalAsync(path), span.SpanId);
    }
}
