using Gateway.Policies;
using Gateway.Policies.Elements;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class RetryPolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData(new[] { 429, 429 }, 2, 200, 3)]
    [InlineData(new[] { 429, 429, 429 }, 2, 429, 3)]
    [InlineData(new[] { 500 }, 3, 500, 1)]
    [InlineData(new int[0], 3, 200, 1)]
    [Covers("retry", "condition", "count")]
    public async Task Retry_WhileTheConditionHolds_UpToCountRetries(int[] statuses, int count, int finalStatus, int backendCalls)
    {
        foreach (var status in statuses)
        {
            _backend.Statuses.Enqueue(status);
        }

        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <retry condition="@(context.Response.StatusCode == 429)" count="{{count}}" interval="0">
                  <forward-request buffer-request-body="true" buffer-response="false" />
                </retry>
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: """{"messages":[{"role":"user","content":"again"}]}""");

        Assert.Equal(finalStatus, (int)response.StatusCode);
        Assert.Equal(backendCalls, _backend.Requests.Count);
        Assert.All(_backend.Requests, r => Assert.Equal("""{"messages":[{"role":"user","content":"again"}]}""", r.Body));
    }

    [Theory]
    [Covers("retry", "condition")]
    // "If an error occurs, processing immediately jumps to the on-error policy section" (Error handling): a
    // forward-request that cannot reach its backend ends the retry, whatever its condition says.
    [InlineData("true", false, "forward-request BackendConnectionFailure backend retry[1]/forward-request[1] after 1 try")]
    // The condition is called as the bool it returns; a throw in it is still ExpressionValueEvaluationFailure, from the retry.
    [InlineData("((string)context.Variables[\"missing\"]).Length > 0", true, "retry ExpressionValueEvaluationFailure backend retry[1] after 1 try")]
    public async Task Retry_AnErrorInAChildOrTheCondition_IsNotRetried_AndOnErrorRuns(string condition, bool backendAnswers, string expected)
    {
        _backend.Statuses.Enqueue(500);
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <retry condition="@({{condition}})" count="3" interval="0">
                  <set-variable name="tries" value="@(context.Variables.GetValueOrDefault<int>("tries") + 1)" />
                  <forward-request buffer-request-body="true" />
                </retry>
              </backend>
              <on-error>
                <return-response>
                  <set-status code="503" reason="Service Unavailable" />
                  <set-header name="x-error" exists-action="override">
                    <value>@(context.LastError.Source + " " + context.LastError.Reason + " " + context.LastError.Section + " " + context.LastError.Path + " after " + context.Variables.GetValueOrDefault<int>("tries") + " try")</value>
                  </set-header>
                </return-response>
              </on-error>
            </policies>
            """);
        var settings = backendAnswers ? null : new Dictionary<string, string> { ["Apim:Backends:aoai-eastus2-gpt-4o:Url"] = "http://127.0.0.1:9/openai" };
        using var factory = new GatewayFactory(apim, _backend.Url, settings: settings);
        using var response = await factory.CreateClient().PostChatAsync();

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal(expected, response.Headers.GetValues("x-error").Single());
        Assert.Equal(backendAnswers ? 1 : 0, _backend.Requests.Count);
    }

    [Theory]
    [InlineData("""interval="5" """, 2, new[] { 5.0, 5.0 })]
    [InlineData("""interval="2" delta="3" """, 3, new[] { 2.0, 5.0, 8.0 })]
    [InlineData("""interval="1" delta="10" max-interval="3" """, 3, new[] { 1.0, 3.0, 3.0 })]
    [InlineData("""interval="5" first-fast-retry="true" """, 2, new[] { 5.0 })]
    [Covers("retry", "interval", "delta", "max-interval", "first-fast-retry")]
    public async Task Retry_WaitsOnTheClockBeforeEachRetry(string timing, int count, double[] waits)
    {
        // Exponential: the second wait would be 1 + random(8, 12) s, but max-interval caps it at 3 s whatever the jitter.
        for (var i = 0; i < count; i++)
        {
            _backend.Statuses.Enqueue(429);
        }

        var time = new ObservedTime();
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <retry condition="@(context.Response.StatusCode == 429)" count="{{count}}" {{timing}}>
                  <forward-request buffer-request-body="true" />
                </retry>
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url, time: time);

        var sending = factory.CreateClient().PostChatAsync();
        for (var i = 0; i < waits.Length; i++)
        {
            await WaitForRetryTimersAsync(time, i + 1);
            var calls = _backend.Requests.Count;
            time.Advance(TimeSpan.FromSeconds(waits[i]) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(calls, _backend.Requests.Count);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        using var response = await sending.WaitAsync(TestTimeouts.Request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(count + 1, _backend.Requests.Count);
        Assert.Equal(waits, RetryTimers(time).Select(t => t.TotalSeconds));
    }

    [Fact]
    public void Wait_Fixed_IsTheInterval()
    {
        Assert.All(Enumerable.Range(1, 4), n => Assert.Equal(TimeSpan.FromSeconds(5), RetryPolicy.Wait(n, 5, null, null, false, () => 0.5)));
    }

    [Fact]
    public void Wait_Linear_GrowsByDelta()
    {
        Assert.Equal([5, 7, 9, 11], Enumerable.Range(1, 4).Select(n => RetryPolicy.Wait(n, 5, 2, null, false, () => 0.5).TotalSeconds));
    }

    [Fact]
    public void Wait_Exponential_DoublesUpToMaxInterval()
    {
        // API Management's example: interval and delta 10 s, max-interval 100 s; random 0.5 gives the delta itself.
        Assert.Equal([10, 20, 40, 80, 100, 100], Enumerable.Range(1, 6).Select(n => RetryPolicy.Wait(n, 10, 10, 100, false, () => 0.5).TotalSeconds));
    }

    [Fact]
    public void Wait_ExponentialJitter_StaysWithinTwentyPercentOfDelta()
    {
        Assert.Equal(10 + (3 * 8), RetryPolicy.Wait(3, 10, 10, 1000, false, () => 0).TotalSeconds, 6);
        Assert.Equal(10 + (3 * 12), RetryPolicy.Wait(3, 10, 10, 1000, false, () => 1).TotalSeconds, 6);
    }

    [Fact]
    public void Wait_FirstFastRetry_MakesOnlyTheFirstImmediate()
    {
        Assert.Equal(TimeSpan.Zero, RetryPolicy.Wait(1, 5, null, null, true, () => 0.5));
        Assert.Equal(TimeSpan.FromSeconds(5), RetryPolicy.Wait(2, 5, null, null, true, () => 0.5));
    }

    [Theory]
    [InlineData("""<retry condition="@(true)" count="51" interval="1"><forward-request /></retry>""", "count must be a whole number from 1 to 50")]
    [InlineData("""<retry condition="@(true)" count="2"><forward-request /></retry>""", "requires attribute 'interval'")]
    [InlineData("""<retry condition="@(true)" count="2" interval="1" max-interval="10"><forward-request /></retry>""", "max-interval needs delta")]
    public void Load_InvalidRetry_FailsWithTheReason(string retry, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><backend>{retry}</backend></policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    /// <summary>The timers of retry's waits: each forward-request also starts one, its deadline (300 s by default).</summary>
    private static IEnumerable<TimeSpan> RetryTimers(ObservedTime time) => time.Timers.Where(t => t != ForwardRequestPolicy.DefaultTimeout);

    private static async Task WaitForRetryTimersAsync(ObservedTime time, int count)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (RetryTimers(time).Count() < count)
        {
            Assert.True(waited.Elapsed < TestTimeouts.Request, $"{RetryTimers(time).Count()} retry wait(s) started, expected {count}");
            await Task.Delay(10);
        }
    }
}
