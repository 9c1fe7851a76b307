using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// A client that goes away while the gateway streams its body to the backend is the client's failure, not the
/// backend's: the backend's circuit breaker (one failure trips it in the shipped topology) stays closed for everyone else.
/// </summary>
public sealed class ClientDisconnectTests : IAsyncLifetime, IDisposable
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private readonly TestApim _apim = new("""
        <policies>
          <inbound>
            <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
          </inbound>
          <backend>
            <forward-request buffer-request-body="false" buffer-response="false" />
          </backend>
          <outbound />
        </policies>
        """, withBreakers: true);

    private RecordingBackend _backend = null!;
    private GatewayFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _factory = new GatewayFactory(_apim, _backend.Url).OnKestrel();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _backend.DisposeAsync();
    }

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task ClientGoesAwayMidBody_TheBackendsBreakerStaysClosed()
    {
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(IPAddress.Loopback, _factory.ClientOptions.BaseAddress.Port);
            var stream = socket.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST {ChatPath} HTTP/1.1\r\nHost: localhost\r\napi-key: {GatewayFactory.PrimaryKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"messages\":"));
            await Task.Delay(200);

            // A plain close (FIN) mid-body, as a load generator's connections end: the body ends early.
            socket.Client.Shutdown(SocketShutdown.Send);
            await Task.Delay(200);
        }

        using var client = _factory.CreateClient();
        using var response = await client.PostChatAsync(body: ChatCalls.OneUserMessage);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
