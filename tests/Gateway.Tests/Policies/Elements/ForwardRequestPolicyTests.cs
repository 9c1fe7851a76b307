using System.Diagnostics;
using System.Net;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Policies.Elements;

public sealed class ForwardRequestPolicyTests : IAsyncLifetime
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private static readonly TimeSpan SlowBackend = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan TimerGranularity = TimeSpan.FromMilliseconds(2);

    /// <summary>How long a stream idle past its 300 ms limit may take to be cut: far less than a request's timeout, far more than the limit.</summary>
    private static readonly TimeSpan IdleCutWithin = TimeSpan.FromSeconds(10);

    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData("""timeout-ms="300" """, 0.3)]
    [InlineData("""timeout="1" """, 1.0)]
    [Covers("forward-request", "timeout", "timeout-ms")]
    public async Task ForwardRequest_BackendSlowerThanTheTimeout_FailsWithTimeoutAfterThatLong(string timeout, double seconds)
    {
        _backend.Answer = async context =>
        {
            await Task.Delay(SlowBackend, context.RequestAborted);
            await context.Response.WriteAsync("late", context.RequestAborted);
        };
        using var apim = new TestApim(ErrorAsHeaderPolicy(timeout + """ buffer-response="false" """));
        using var factory = new GatewayFactory(apim, _backend.Url);
        var client = factory.CreateClient();
        using var warmUp = await client.PostChatAsync(completion: HttpCompletionOption.ResponseContentRead);
        var clock = Stopwatch.StartNew();

        using var response = await client.PostChatAsync(completion: HttpCompletionOption.ResponseContentRead);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("forward-request|Timeout", response.Headers.GetValues("x-error").Single());
        // .NET's timers count whole milliseconds (Environment.TickCount64), so a deadline can pass up to one before the
        // Stopwatch says it is due (a CI run measured 0.99982 s for 1 s).
        Assert.InRange(clock.Elapsed.TotalSeconds, seconds - TimerGranularity.TotalSeconds, SlowBackend.TotalSeconds / 2);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("true")]
    [Covers("forward-request", "buffer-response")]
    public async Task ForwardRequest_BufferResponse_HoldsTheAnswerUntilTheBackendHasFinished(string buffer)
    {
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Answer = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await rest.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("data: second\n\n", context.RequestAborted);
        };
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <forward-request buffer-response="{{buffer}}" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        var sending = factory.CreateClient().PostChatAsync(completion: HttpCompletionOption.ResponseHeadersRead);
        if (buffer == "false")
        {
            // Streamed: the client has the headers and the first event while the backend is still writing.
            using var streamed = await sending;
            using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request));
            rest.SetResult();
            Assert.Equal("\ndata: second\n\n", await reader.ReadToEndAsync().WaitAsync(TestTimeouts.Request));
            return;
        }

        // Buffered: nothing reaches the client until the backend's whole body has arrived.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(sending.IsCompleted);
        rest.SetResult();
        using var buffered = await sending;
        Assert.Equal(HttpStatusCode.OK, buffered.StatusCode);
        Assert.Equal("data: first\n\ndata: second\n\n", await buffered.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("forward-request", "timeout")]
    public async Task ForwardRequest_StreamPausingLongerThanTheTimeout_IsNotCut()
    {
        // The timeout bounds the wait for the response headers: a stream that has begun may pause for longer.
        _backend.Answer = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds(1.5), context.RequestAborted);
            await context.Response.WriteAsync("data: second\n\n", context.RequestAborted);
        };
        using var apim = new TestApim(ErrorAsHeaderPolicy("""timeout-ms="500" buffer-response="false" """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        // A first request compiles the gateway's path: on a loaded machine that alone took longer than a short timeout
        // (a 504 before the headers, which is not what this test is about).
        var client = factory.CreateClient();
        using var warmUp = await client.PostChatAsync();
        using var response = await client.PostChatAsync(completion: HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("data: first\n\ndata: second\n\n", await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
    }

    [Fact]
    [Covers("forward-request", "timeout")]
    public async Task ForwardRequest_UploadStillArrivingWhenTheTimeoutPasses_FailsWithTimeout()
    {
        // azure-docs#91401: a request body that takes longer to arrive than the timeout times the call out, though
        // bytes keep flowing (an idle timeout would not fire).
        using var apim = new TestApim(ErrorAsHeaderPolicy("""timeout-ms="500" buffer-request-body="false" """));

        // On Kestrel: the in-memory test server hands the application a request only once its body has been sent.
        using var factory = new GatewayFactory(apim, _backend.Url).OnKestrel();
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = new TrickledContent(chunks: 15, every: TimeSpan.FromMilliseconds(100)) };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);

        using var client = new HttpClient { BaseAddress = factory.ClientOptions.BaseAddress };
        using var response = await client.SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("forward-request|Timeout", response.Headers.GetValues("x-error").Single());
    }

    [Fact]
    [Covers("forward-request", "timeout")]
    public async Task ForwardRequest_NoHeadersWithinTheTimeout_TimesOutOnTheGatewaysClock()
    {
        var time = new ObservedTime();
        time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
        _backend.Answer = async context => await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
        using var apim = new TestApim(ErrorAsHeaderPolicy("""timeout="120" """));
        using var factory = new GatewayFactory(apim, _backend.Url, time: time);

        var sending = factory.CreateClient().PostChatAsync(completion: HttpCompletionOption.ResponseContentRead);
        await WaitForTimerAsync(time, TimeSpan.FromSeconds(120));
        time.Advance(TimeSpan.FromSeconds(119));
        await Task.Delay(100);
        Assert.False(sending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        using var response = await sending;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("forward-request|Timeout", response.Headers.GetValues("x-error").Single());
    }

    [Fact]
    public async Task ForwardRequest_StreamStalledLongerThanTheIdleTimeout_IsCut()
    {
        // A backend that stops sending mid-stream without closing: the connection is dropped once it has been idle for
        // Gateway:Forwarding:IdleTimeout (4 minutes by default, as Azure's load balancer in front of API Management).
        _backend.Answer = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
        };
        using var apim = new TestApim(ErrorAsHeaderPolicy("""buffer-response="false" """));
        using var factory = new GatewayFactory(apim, _backend.Url, settings: new Dictionary<string, string> { ["Gateway:Forwarding:IdleTimeout"] = "00:00:00.300" });

        using var response = await factory.CreateClient().PostChatAsync(completion: HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request));
        var cut = await Record.ExceptionAsync(() => reader.ReadToEndAsync().WaitAsync(IdleCutWithin));

        Assert.True(cut is IOException or HttpRequestException, cut?.ToString() ?? "the stream ended normally");
    }

    /// <summary>A policy forwarding with <paramref name="attributes"/>, whose on-error answers 504 with the error's source and reason in <c>x-error</c>.</summary>
    private static string ErrorAsHeaderPolicy(string attributes) =>
        TestPolicy.With(TestPolicy.ToEastUs2, $"<forward-request {attributes} />", onError: TestPolicy.AnswerWithError(504, "Gateway Timeout"));

    private static async Task WaitForTimerAsync(ObservedTime time, TimeSpan dueTime)
    {
        var waited = Stopwatch.StartNew();
        while (!time.Timers.Contains(dueTime))
        {
            Assert.True(waited.Elapsed < TestTimeouts.Request, $"no timer of {dueTime} was started on the gateway's clock");
            await Task.Delay(10);
        }
    }
}
