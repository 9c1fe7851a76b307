using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// Clients that trickle their request, on the real Kestrel server under the shipped policy, with small limits set
/// through configuration (<c>Kestrel:Limits:RequestHeadersTimeout</c> 1 s; <c>MinRequestBodyDataRate</c> 1,000 bytes a
/// second after a 2-second grace period): each is cut off with Kestrel's 408 and a closed connection, nothing reaches a
/// backend, and no error is logged. Kestrel checks its limits once a second, so a cut-off comes up to a second after
/// the limit.
/// </summary>
public sealed class SlowClientTests : IAsyncLifetime, IDisposable
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;
    private GatewayFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _factory = new GatewayFactory(_apim, _backend.Url, testServices: services => services.AddLogging(logging => logging.AddFakeLogging()), settings: new Dictionary<string, string>
        {
            ["Kestrel:Limits:RequestHeadersTimeout"] = "00:00:01",
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "1000",
            ["Kestrel:Limits:MinRequestBodyDataRate:GracePeriod"] = "00:00:02",
        }).OnKestrel();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _backend.DisposeAsync();
    }

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task HeadersTrickled_AreCutOffAfterTheRequestHeadersTimeout()
    {
        using var socket = await ConnectAsync();
        var stream = socket.GetStream();
        var started = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {ChatPath} HTTP/1.1\r\nHost: localhost\r\n"));

        // A header a byte at a time, 4 bytes a second, never finished: only the headers' timeout can end it.
        var trickling = TrickleAsync(stream, Encoding.ASCII.GetBytes("x-slow: " + new string('a', 200)), chunk: 1, every: TimeSpan.FromMilliseconds(250));
        var answer = await ReadToCloseAsync(stream).WaitAsync(TestTimeouts.Request);

        Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", answer, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
        Assert.Empty(_backend.Requests);
        await trickling;
        AssertNoErrorLogged();
    }

    [Fact]
    public async Task BodyTrickled_IsCutOffBelowTheMinimumDataRate()
    {
        using var socket = await ConnectAsync();
        var stream = socket.GetStream();
        var started = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {ChatPath} HTTP/1.1\r\nHost: localhost\r\napi-key: {GatewayFactory.PrimaryKey}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"));

        // The body at 300 bytes a second: enough for Kestrel's default minimum (240), too little for the 1,000
        // configured, so it is cut off once the grace period has passed rather than after the 33 s it takes.
        var trickling = TrickleAsync(stream, Encoding.ASCII.GetBytes("{\"messages\":[" + new string(' ', 9986) + "]}"), chunk: 30, every: TimeSpan.FromMilliseconds(100));
        var answer = await ReadToCloseAsync(stream).WaitAsync(TestTimeouts.Request);

        Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", answer, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6));
        Assert.Empty(_backend.Requests);
        await trickling;
        AssertNoErrorLogged();
    }

    /// <summary>A slow client is the client's failure: nothing is logged as an error for it.</summary>
    private void AssertNoErrorLogged()
    {
        var errors = _factory.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Where(r => r.Level >= LogLevel.Error);
        Assert.Empty(errors.Select(r => $"{r.Category}: {r.Message}"));
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, _factory.ClientOptions.BaseAddress.Port);
        return socket;
    }

    /// <summary>Writes <paramref name="bytes"/>, <paramref name="chunk"/> at a time <paramref name="every"/>, until they run out or the gateway closes the connection.</summary>
    private static async Task TrickleAsync(NetworkStream stream, byte[] bytes, int chunk, TimeSpan every)
    {
        try
        {
            for (var sent = 0; sent < bytes.Length; sent += chunk)
            {
                await Task.Delay(every);
                await stream.WriteAsync(bytes.AsMemory(sent, Math.Min(chunk, bytes.Length - sent)));
            }
        }
        catch (IOException)
        {
            // Cut off, as it should be.
        }
        catch (ObjectDisposedException)
        {
            // The test has its answer and closed the socket.
        }
    }

    /// <summary>Everything the gateway sends until it closes the connection.</summary>
    private static async Task<string> ReadToCloseAsync(NetworkStream stream)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer: what was received stands.
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
