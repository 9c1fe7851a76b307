using System.Diagnostics;
using Gateway.Tests.Support;

namespace Gateway.Tests.Forwarding;

/// <summary>
/// The gateway as a test host runs without an OTLP endpoint: its forward-request does not join the trace, so the
/// client's <c>traceparent</c> reaches the backend as it was sent (<c>BackendClientFactory</c>, as the gateway
/// registers it).
/// </summary>
public sealed class TraceContextForwardingTests : IAsyncLifetime, IDisposable
{
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;
    private GatewayFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync().WaitAsync(TestTimeouts.Request);
        _factory = new GatewayFactory(_apim, _backend.Url);
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync().AsTask().WaitAsync(TestTimeouts.Request);
        await _backend.DisposeAsync().AsTask().WaitAsync(TestTimeouts.Request);
    }

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task WithoutAnExporter_TheClientsTraceparentReachesTheBackendUnchanged()
    {
        var traceparent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";

        using var response = await _factory.CreateClient().PostChatAsync(headers: [("traceparent", traceparent)]).WaitAsync(TestTimeouts.Request);

        response.EnsureSuccessStatusCode();
        var received = Assert.Single(_backend.Requests);
        Assert.Equal(traceparent, received.Headers["traceparent"]);
    }
}
