using System.Diagnostics;
using System.Net;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Policies.Elements;

public sealed class SendOneWayRequestPolicyTests : IAsyncLifetime
{
    private const string ChatBody = """{"messages":[{"role":"user","content":"hi"}]}""";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    [Covers("send-one-way-request")]
    public async Task SendOneWayRequest_TargetThatNeverAnswers_DoesNotDelayTheResponse()
    {
        await using var hook = await GatedBackend.StartAsync();
        using var apim = new TestApim(Policy($$"""
            <send-one-way-request mode="new">
              <set-url>{{hook.Url}}/hook</set-url>
              <set-method>POST</set-method>
              <set-header name="x-team" exists-action="override"><value>alerts</value></set-header>
              <set-body>@("status " + context.Response.StatusCode)</set-body>
            </send-one-way-request>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await factory.CreateClient().PostChatAsync(body: ChatBody);

        // The gated hook holds every request until it is opened (at dispose): the response came back regardless.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("alerts", await hook.NextArrivalAsync());
        Assert.Equal(1, factory.Services.GetRequiredService<Gateway.Forwarding.SendRequestClient>().OneWayInFlight);
    }

    [Fact]
    [Covers("send-one-way-request", "mode")]
    public async Task SendOneWayRequest_CopyMode_SendsTheServedRequestAsThePolicyLeftIt()
    {
        using var apim = new TestApim(Policy(outbound: string.Empty, inbound: $$"""
            <send-one-way-request mode="copy">
              <set-url>{{_backend.Url}}/mirror</set-url>
              <set-header name="x-mirror" exists-action="override"><value>yes</value></set-header>
            </send-one-way-request>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await factory.CreateClient().PostChatAsync(body: ChatBody);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var mirror = await _backend.ArrivalAsync("/mirror");
        Assert.Equal(("POST", ChatBody, "yes"), (mirror.Method, mirror.Body, mirror.Headers["x-mirror"]));
        Assert.Equal(GatewayFactory.PrimaryKey, mirror.Headers["api-key"]);
    }

    [Theory]
    [InlineData("""timeout="20" """, 20)]
    [InlineData("", 60)]
    [Covers("send-one-way-request", "timeout")]
    public async Task SendOneWayRequest_NoAnswerWithinTheTimeout_IsAbandonedThen(string timeout, int seconds)
    {
        var time = new ObservedTime();
        time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
        var abandoned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Answer = async context =>
        {
            if (context.Request.Path != "/hang")
            {
                await context.Response.WriteAsJsonAsync(new { ok = true });
                return;
            }

            try
            {
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                abandoned.TrySetResult();
            }
        };
        using var apim = new TestApim(Policy($$"""
            <send-one-way-request {{timeout}}>
              <set-url>{{_backend.Url}}/hang</set-url>
              <set-method>GET</set-method>
            </send-one-way-request>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url, time: time);

        using var response = await factory.CreateClient().PostChatAsync(body: ChatBody);
        await _backend.ArrivalAsync("/hang");
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(seconds));
        time.Advance(TimeSpan.FromSeconds(seconds - 1));
        await Task.Delay(100);
        Assert.False(abandoned.Task.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await abandoned.Task.WaitAsync(TestTimeouts.Request);
    }

    [Fact]
    [Covers("send-one-way-request")]
    public async Task SendOneWayRequest_ConnectionRefused_IsOnlyLogged()
    {
        var target = Loopback.ClosedPortUrl();
        using var apim = new TestApim(Policy($$"""
            <send-one-way-request>
              <set-url>{{target}}/hook?sig=secret-signature</set-url>
              <set-method>POST</set-method>
            </send-one-way-request>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url, testServices: services =>
        {
            services.AddFakeLogging();
            services.PostConfigure<LoggerFilterOptions>(options =>
            {
                options.Rules.Clear();
                options.MinLevel = LogLevel.Trace;
            });
        });

        using var response = await factory.CreateClient().PostChatAsync(body: ChatBody);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.TryGetValues("x-error", out var errors) ? errors.Single() : null);
        var collector = factory.Services.GetFakeLogCollector();
        var waited = Stopwatch.StartNew();
        while (!collector.GetSnapshot().Any(r => r.Level == LogLevel.Warning && r.Message.StartsWith($"send-one-way-request to {target} failed", StringComparison.Ordinal)))
        {
            Assert.True(waited.Elapsed < TestTimeouts.Request, "the failure was not logged");
            await Task.Delay(10);
        }

        Assert.DoesNotContain(collector.GetSnapshot(), r => r.Message.Contains("secret-signature", StringComparison.Ordinal));
    }

    /// <summary>An API policy forwarding to the recording backend, with <paramref name="outbound"/> after the response; on-error names the error in <c>x-error</c>.</summary>
    private static string Policy(string outbound, string inbound = "") =>
        TestPolicy.With(TestPolicy.ToEastUs2 + inbound, outbound: outbound, onError: TestPolicy.AnswerWithError(502, "Failed"));
}
