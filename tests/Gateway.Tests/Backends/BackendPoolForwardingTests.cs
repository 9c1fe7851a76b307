using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Pipeline;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Backends;

/// <summary>Pools and circuit breakers through the whole gateway: set-backend-service names them, forward-request picks.</summary>
public sealed class BackendPoolForwardingTests : IAsyncLifetime
{
    private const string Chat = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string Embeddings = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private const string Throttled = "\"count\": 1, \"interval\": \"PT10S\", \"statusCodeRanges\": [ { \"min\": 429, \"max\": 429 } ]";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));
    private MemberBackends _members = null!;

    public async Task InitializeAsync() => _members = await MemberBackends.StartAsync();

    public async Task DisposeAsync() => await _members.DisposeAsync();

    [Fact]
    [Covers("set-backend-service", "backend-id")]
    public async Task Pool_WhileHealthy_SendsAllTrafficToPriorityOne_AndContextBackendIsThePool()
    {
        using var apim = PoolApim(RetryPolicy(outbound: """<set-header name="x-backend" exists-action="override"><value>@(context.Backend.Id + "/" + context.Backend.Type)</value></set-header>"""));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();

        var headers = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await SendAsync(client, Chat);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            headers.Add(response.Headers.GetValues("x-backend").Single());
        }

        Assert.Equal(100, Members().Count(m => m == "p1"));
        Assert.All(headers, h => Assert.Equal("pool/Pool", h));
    }

    [Theory]
    [InlineData(false, 60)]
    [InlineData(true, 7)]
    [Covers("retry", "condition", "count")]
    [Covers("forward-request", "buffer-request-body")]
    public async Task Pool_PriorityOneThrottled_FailsOverWithinTheRequest_AndReturnsWhenTheTripEnds(bool acceptRetryAfter, int tripSeconds)
    {
        _members.Scripts["p1"] = new([(429, "7")]);
        using var apim = PoolApim(RetryPolicy(), acceptRetryAfter);
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();
        var traceId = ActivityTraceId.CreateRandom();
        var backendTags = new ConcurrentQueue<(string? Member, string? Pool)>();
        using var listener = BackendSpanListener(traceId, backendTags);

        using var first = await SendAsync(client, Chat, traceId);
        var firstMembers = Members();
        using var second = await SendAsync(client, Chat);
        _time.Advance(TimeSpan.FromSeconds(tripSeconds) - TimeSpan.FromTicks(1));
        using var oneTickBefore = await SendAsync(client, Chat);
        _time.Advance(TimeSpan.FromTicks(1));
        using var atTheEnd = await SendAsync(client, Chat);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("""{"member":"p2"}""", await first.Content.ReadAsStringAsync());
        Assert.Equal(["p1", "p2"], firstMembers);
        Assert.Equal(("p2", "pool"), Assert.Single(backendTags));
        Assert.Equal(["p1", "p2", "p2", "p2", "p1"], Members());
        Assert.All([second, oneTickBefore, atTheEnd], r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task AdminReset_OfBreakers_SendsTrafficBackToPriorityOneBeforeTheTripEnds()
    {
        const string AdminKey = "admin-key-0123456789";
        _members.Scripts["p1"] = new([(429, null)]);
        using var apim = PoolApim(RetryPolicy());
        using var factory = new GatewayFactory(apim, _members.Url, time: _time, settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey });
        var client = factory.CreateClient();

        using var tripped = await SendAsync(client, Chat);
        using var stillTripped = await SendAsync(client, Chat);
        using var reset = new HttpRequestMessage(HttpMethod.Post, "/_gateway/admin/reset?scope=breakers");
        reset.Headers.Add("x-admin-key", AdminKey);
        using var resetResponse = await client.SendAsync(reset).WaitAsync(TestTimeouts.Request);
        using var afterReset = await SendAsync(client, Chat);

        Assert.Equal(HttpStatusCode.OK, resetResponse.StatusCode);
        Assert.Contains("circuit-breakers", await resetResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["p1", "p2", "p2", "p1"], Members());
    }

    [Fact]
    [Covers("set-backend-service", "backend-id")]
    public async Task Pool_Exhausted_AnswersApiManagements503_WithNoBodyAndNoRetryAfter()
    {
        _members.Otherwise["p1"] = 429;
        _members.Otherwise["p2"] = 429;
        using var apim = PoolApim(RetryPolicy(count: 3));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        using var response = await SendAsync(factory.CreateClient(), Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Backend pool is temporarily unavailable", response.ReasonPhrase);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, response.Content.Headers.ContentLength);
        Assert.Null(response.Headers.RetryAfter);
        Assert.False(response.Headers.Contains("x-backend"));
        Assert.Equal(["p1", "p2"], Members());
    }

    [Fact]
    public async Task Pool_Exhausted_GoesToOnErrorWithTheLastError()
    {
        _members.Otherwise["p1"] = 429;
        _members.Otherwise["p2"] = 429;
        using var apim = PoolApim(RetryPolicy(count: 3, onError: """
            <set-header name="x-error" exists-action="override">
              <value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Section + "|" + context.LastError.Path + "|" + context.Response.StatusCode)</value>
            </set-header>
            """));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        using var response = await SendAsync(factory.CreateClient(), Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("forward-request|BackendUnavailable|backend|retry[1]/forward-request[1]|503", response.Headers.GetValues("x-error").Single());
    }

    [Theory]
    [InlineData("@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)", 4)]
    [InlineData("@(context.Response.StatusCode == 429 || (context.Response.StatusCode == 503 && !context.Response.StatusReason.Contains(\"Backend pool\")))", 3)]
    [Covers("retry", "condition")]
    public async Task Pool_Exhausted_InsideRetry_TheConditionSeesThePools503_ThenOnErrorRuns(string condition, int tries)
    {
        // As AI-Gateway's load-balancing policies assumed (their condition excluded the pool's own reason phrase):
        // the exhausted pool's 503 is a response the retry condition sees, and the error reaches on-error once it stops.
        _members.Otherwise["p1"] = 429;
        _members.Otherwise["p2"] = 429;
        using var apim = PoolApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="pool" />
                <set-variable name="tries" value="@(0)" />
              </inbound>
              <backend>
                <retry condition="{{condition}}" count="3" interval="0">
                  <set-variable name="tries" value="@((int)context.Variables["tries"] + 1)" />
                  <forward-request buffer-request-body="true" />
                </retry>
              </backend>
              <on-error>
                <set-header name="x-error" exists-action="override">
                  <value>@(context.Variables["tries"] + "|" + context.LastError.Reason + "|" + context.Response.StatusCode + " " + context.Response.StatusReason)</value>
                </set-header>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        using var response = await SendAsync(factory.CreateClient(), Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal($"{tries}|BackendUnavailable|503 Backend pool is temporarily unavailable", response.Headers.GetValues("x-error").Single());
        Assert.Equal(["p1", "p2"], Members());
    }

    [Fact]
    [Covers("retry", "interval")]
    public async Task Pool_Exhausted_InsideRetry_AMemberThatRecoversDuringTheIntervalServes()
    {
        _members.Scripts["p1"] = new([(429, null)]);
        _members.Otherwise["p2"] = 429;
        using var apim = PoolApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="pool" />
              </inbound>
              <backend>
                <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)" count="10" interval="10">
                  <forward-request buffer-request-body="true" />
                </retry>
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        // p1 and p2 trip at once; the retry waits on the injected clock, which moves a second at a time until p1's
        // 60-second trip ends and a later try reaches it.
        var sending = SendAsync(factory.CreateClient(), Chat);
        while (!sending.IsCompleted && _time.GetUtcNow() < new DateTimeOffset(2026, 3, 2, 8, 5, 0, TimeSpan.Zero))
        {
            await Task.Delay(10);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        using var response = await sending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"member":"p1"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(["p1", "p2", "p1"], Members());
    }

    [Fact]
    [Covers("return-response")]
    public async Task Pool_Exhausted_OnErrorCanAnswer429_WithRetryAfterNoLongerThanTheSoonestRecovery()
    {
        _members.Scripts["p1"] = new([(429, null)]);
        _members.Otherwise["p2"] = 429;
        using var apim = new TestApim(RetryPolicy(count: 3, onError: """
            <choose>
              <when condition="@(context.LastError.Reason == "BackendUnavailable")">
                <return-response>
                  <set-status code="429" reason="Too Many Requests" />
                  <set-header name="Retry-After" exists-action="override">
                    <value>@(context.Variables.GetValueOrDefault<int>("apim-local:backend-retry-after", 60).ToString())</value>
                  </set-header>
                </return-response>
              </when>
            </choose>
            """));
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", _members.Url + "/p1/openai", Throttled, tripDuration: "PT30S"),
            TestTopology.Single("p2", _members.Url + "/p2/openai", Throttled, tripDuration: "PT45S"),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 2, 1)));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();

        using var exhausted = await SendAsync(client, Chat);
        _time.Advance(TimeSpan.FromSeconds(12));
        using var later = await SendAsync(client, Chat);
        _time.Advance(TimeSpan.FromSeconds(18));
        using var recovered = await SendAsync(client, Chat);

        Assert.Equal(HttpStatusCode.TooManyRequests, exhausted.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), exhausted.Headers.RetryAfter!.Delta);
        Assert.Equal(TimeSpan.FromSeconds(18), later.Headers.RetryAfter!.Delta);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(["p1", "p2", "p1"], Members());
    }

    [Fact]
    [Covers("set-backend-service", "backend-id")]
    public async Task SingleBackend_Tripped_Answers503UntilTheTripEnds()
    {
        _members.Otherwise["east"] = 500;
        using var apim = new TestApim(RetryPolicy(backendId: "east", count: 0));
        TestTopology.AddBackends(apim, TestTopology.Single("east", _members.Url + "/east/openai", "\"count\": 2, \"interval\": \"PT1M\", \"statusCodeRanges\": [ { \"min\": 500, \"max\": 599 } ]", tripDuration: "PT20S"));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await SendAsync(client, Chat);
            statuses.Add((int)response.StatusCode);
            if (i == 2)
            {
                Assert.Equal("Backend is temporarily unavailable", response.ReasonPhrase);
            }
        }

        _time.Advance(TimeSpan.FromSeconds(20));
        _members.Otherwise["east"] = 200;
        using var recovered = await SendAsync(client, Chat);

        Assert.Equal([500, 500, 503], statuses);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(3, Members().Count);
    }

    [Fact]
    [Covers("set-backend-service", "backend-id")]
    public async Task BackendPerDeployment_TrippingTheChatOne_LeavesTheEmbeddingsOneServing()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="@(context.Request.MatchedParameters["deployment-id"] == "gpt-4o" ? "east-chat" : "east-embeddings")" />
              </inbound>
              <backend>
                <forward-request />
              </backend>
            </policies>
            """);
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("east-chat", _members.Url + "/east/openai", Throttled, deployment: "gpt-4o"),
            TestTopology.Single("east-embeddings", _members.Url + "/east/openai", Throttled, deployment: "text-embedding-3-small"));
        _members.Backend.Answer = async http =>
        {
            // One account, throttled per deployment as Azure OpenAI does: the chat deployment is out of quota.
            http.Response.StatusCode = http.Request.Path.Value!.Contains("/gpt-4o/", StringComparison.Ordinal) ? 429 : 200;
            await http.Response.WriteAsJsonAsync(new { ok = true });
        };
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();

        var chat = new List<int>();
        var embeddings = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var c = await SendAsync(client, Chat);
            chat.Add((int)c.StatusCode);
            using var e = await SendAsync(client, Embeddings);
            embeddings.Add((int)e.StatusCode);
        }

        Assert.Equal([429, 503, 503], chat);
        Assert.Equal([200, 200, 200], embeddings);
        Assert.Equal(1, _members.Backend.Requests.Count(r => r.PathAndQuery.StartsWith("/east/openai/deployments/gpt-4o/", StringComparison.Ordinal)));
        Assert.Equal(3, _members.Backend.Requests.Count(r => r.PathAndQuery.StartsWith("/east/openai/deployments/text-embedding-3-small/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Pool_MemberFailingWithAListedErrorReason_TripsAndTheNextRequestGoesToTheNextPriority()
    {
        using var apim = new TestApim(RetryPolicy(count: 0));
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", "http://127.0.0.1:9/openai", "\"count\": 1, \"interval\": \"PT10S\", \"errorReasons\": [ \"BackendConnectionFailure\" ]"),
            TestTopology.Single("p2", _members.Url + "/p2/openai", Throttled),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 2, 1)));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();

        using var unreachable = await SendAsync(client, Chat);
        using var next = await SendAsync(client, Chat);

        Assert.Equal(HttpStatusCode.InternalServerError, unreachable.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(["p2"], Members());
    }

    [Fact]
    public async Task Pool_ConcurrentRequests_AreAllServed_AndSplitByRoundRobin()
    {
        using var apim = new TestApim(RetryPolicy());
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", _members.Url + "/p1/openai", Throttled),
            TestTopology.Single("p2", _members.Url + "/p2/openai", Throttled),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 1, 1)));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await SendAsync(client, Chat);
            return (int)response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(200, s));
        Assert.Equal(20, Members().Count(m => m == "p1"));
        Assert.Equal(20, Members().Count(m => m == "p2"));
    }

    private TestApim PoolApim(string policy, bool acceptRetryAfter = false)
    {
        var apim = new TestApim(policy);
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", _members.Url + "/p1/openai", Throttled, acceptRetryAfter: acceptRetryAfter),
            TestTopology.Single("p2", _members.Url + "/p2/openai", Throttled, acceptRetryAfter: acceptRetryAfter),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 2, 1)));
        return apim;
    }

    private static string RetryPolicy(string backendId = "pool", int count = 2, string outbound = "", string onError = "") => TestPolicy.With(
        $"""<set-backend-service backend-id="{backendId}" />""",
        count == 0 ? TestPolicy.Forward : $"""
            <retry condition="@(context.Response.StatusCode == 429)" count="{count}" interval="0">
              <forward-request buffer-request-body="true" />
            </retry>
            """,
        outbound,
        onError);

    private static ActivityListener BackendSpanListener(ActivityTraceId traceId, ConcurrentQueue<(string? Member, string? Pool)> tags)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GatewayTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId && activity.OperationName == "policy backend")
                {
                    tags.Enqueue((activity.GetTagItem("apim.backend.id") as string, activity.GetTagItem("apim.backend.pool.id") as string));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private List<string> Members() => _members.Members();

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string path, ActivityTraceId? traceId = null) =>
        client.PostChatAsync(path, ChatCalls.OneUserMessage, headers: traceId is { } id ? [("traceparent", $"00-{id}-{ActivitySpanId.CreateRandom()}-01")] : null);
}
