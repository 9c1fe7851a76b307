using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Pipeline;
using Gateway.Tests.Support;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// The body limit (<c>Kestrel:Limits:MaxRequestBodySize</c>, 1 MiB here) on the real Kestrel server under the shipped
/// policy, which reads bodies: an oversized body gets API Management's 413 at once, whether its length is declared,
/// announced with <c>Expect: 100-continue</c> or only found while it streams in chunks, and never reaches a backend.
/// </summary>
public sealed class RequestLimitsTests : IAsyncLifetime, IDisposable
{
    private const int Limit = 1024 * 1024;
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;
    private GatewayFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _factory = new GatewayFactory(_apim, _backend.Url, settings: new Dictionary<string, string> { ["Kestrel:Limits:MaxRequestBodySize"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) }).OnKestrel();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _backend.DisposeAsync();
    }

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task DeclaredLengthOverTheLimit_WithExpectContinue_Is413BeforeTheBodyIsSent()
    {
        // Headers only: the body is never sent, so only an answer given before reading it can arrive.
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, _factory.ClientOptions.BaseAddress.Port);
        var stream = socket.GetStream();
        var started = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {ChatPath} HTTP/1.1\r\nHost: localhost\r\napi-key: {GatewayFactory.PrimaryKey}\r\nContent-Type: application/json\r\nContent-Length: {Limit + 1}\r\nExpect: 100-continue\r\n\r\n"));

        var answer = await ReadHeadAndBodyAsync(stream).WaitAsync(TestTimeouts.Request);

        Assert.StartsWith("HTTP/1.1 413 Payload Too Large\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith(ApimResponses.PayloadTooLargeBody, answer, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"answered after {started.Elapsed}");
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task DeclaredLengthOverTheLimit_SentAtOnce_Is413ThatTheClientReads()
    {
        using var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = new ByteArrayContent(new byte[Limit + 1]) };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);

        using var response = await client.SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(ApimResponses.PayloadTooLargeBody, await response.Content.ReadAsStringAsync());
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task ChunkedBodyGrowingPastTheLimit_Is413()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, _factory.ClientOptions.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {ChatPath} HTTP/1.1\r\nHost: localhost\r\napi-key: {GatewayFactory.PrimaryKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var chunk = new byte[64 * 1024];
        try
        {
            for (var sent = 0; sent <= Limit; sent += chunk.Length)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
                await stream.WriteAsync(chunk);
                await stream.WriteAsync("\r\n"u8.ToArray());
            }
        }
        catch (IOException)
        {
            // The gateway may close its side once it has answered.
        }

        var answer = await ReadHeadAndBodyAsync(stream).WaitAsync(TestTimeouts.Request);

        Assert.StartsWith("HTTP/1.1 413 Payload Too Large\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith(ApimResponses.PayloadTooLargeBody, answer, StringComparison.Ordinal);
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task BodyAtTheLimit_IsForwarded()
    {
        var body = $$"""{"messages":[{"role":"user","content":"{{new string('a', 1000)}}"}]}""";
        using var client = _factory.CreateClient();
        using var response = await client.PostChatAsync(body: body.PadRight(Limit));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Limit, Assert.Single(_backend.Requests).Body.Length);
    }

    private static async Task<string> ReadHeadAndBodyAsync(NetworkStream stream)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().EndsWith('}'))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return received.ToString();
    }
}
