using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using MockOpenAI.Server;
using MockOpenAI.Tests.Support;

namespace MockOpenAI.Tests.Server;

/// <summary>The account-wide faults of <c>/__mock/faults</c>, on one account over real HTTP, timed on a fake clock.</summary>
public sealed class FaultsApiTests : IAsyncLifetime
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private readonly ObservedTime _time = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly MockOpenAIOptions _options = new() { Account = "test", Region = "eastus2" };
    private LoopbackAccount _account = null!;

    public async Task InitializeAsync()
    {
        _options.Deployments["gpt-4o"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20", Capacity = 100 };
        _options.Deployments["text-embedding-3-small"] = new DeploymentOptions { Model = "text-embedding-3-small", Version = "1" };
        _account = await LoopbackAccount.StartAsync(_time, _options);
    }

    public async Task DisposeAsync() => await _account.DisposeAsync();

    [Fact]
    public async Task Throttle_ForThirtySeconds_AnswersTheQuotas429WithItsRetryAfter_ThenServesAgain()
    {
        await SetAsync("""{"kind":"throttle","seconds":30,"retryAfter":10}""");

        using var throttled = await ChatAsync();
        _time.Advance(TimeSpan.FromSeconds(29));
        using var stillThrottled = await ChatAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        using var served = await ChatAsync();

        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.Equal("10", Header(throttled, "Retry-After"));
        Assert.Equal("10000", Header(throttled, "retry-after-ms"));
        Assert.Equal("600", Header(throttled, "x-ratelimit-limit-requests"));
        Assert.Equal("eastus2", Header(throttled, "x-ms-region"));
        Assert.Equal(
            """{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 10 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}}""",
            await throttled.Content.ReadAsStringAsync());
        Assert.Equal((HttpStatusCode)429, stillThrottled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(3, (await JournalAsync()).Count);
    }

    [Fact]
    public async Task Throttle_ScopedToADeployment_LeavesTheOthersAlone_AndADeploymentWithoutQuotaSendsOnlyRetryAfter()
    {
        await SetAsync("""{"kind":"throttle","seconds":60,"retryAfter":5,"deployment":"text-embedding-3-small"}""");

        using var chat = await ChatAsync();
        using var embeddings = await _account.SendAsync(HttpMethod.Post, EmbeddingsPath, """{"input":"hello"}""");

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal((HttpStatusCode)429, embeddings.StatusCode);
        Assert.Equal("5", Header(embeddings, "Retry-After"));
        Assert.Equal("5000", Header(embeddings, "retry-after-ms"));
        Assert.False(embeddings.Headers.Contains("x-ratelimit-limit-requests"));
        Assert.Contains("Embeddings_Create", await embeddings.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, """{"error":{"code":"InternalServerError","message":"The server had an error while processing your request. Sorry about that!"}}""")]
    [InlineData(503, """{"error":{"code":"ServiceUnavailable","message":"The service is temporarily unable to process your request. Please try again later."}}""")]
    public async Task Fail_NextTwoRequests_AnswersTheStatusWithAzuresEnvelope_ThenServes(int status, string body)
    {
        await SetAsync($$"""{"kind":"fail","count":2,"status":{{status}}}""");

        using var first = await ChatAsync();
        using var second = await ChatAsync();
        using var third = await ChatAsync();

        Assert.Equal(status, (int)first.StatusCode);
        Assert.Equal(body, await first.Content.ReadAsStringAsync());
        Assert.Equal(status, (int)second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(3, (await JournalAsync()).Count);
    }

    [Fact]
    public async Task Hang_HoldsRequestsUntilItExpiresOnTheAccountsClock_ThenDropsThem_AndJournalsThem()
    {
        await SetAsync("""{"kind":"hang","seconds":20}""");

        var held = ChatAsync();
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(20), TestTimeouts.Request);
        _time.Advance(TimeSpan.FromSeconds(19));
        await Task.Delay(200);
        Assert.False(held.IsCompleted, "the hang let a request go before it ended");
        Assert.Single(await JournalAsync());
        _time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => held);
        using var served = await ChatAsync();
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Hang_ClientGivesUp_IsCountedAsCancelled()
    {
        using var cancelled = new MetricCollector<long>(_account.MeterFactory, MockMetrics.MeterName, "mockopenai.requests.cancelled");
        await SetAsync("""{"kind":"hang","seconds":600}""");
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", (await _account.Issuer.GetTokenAsync("https://cognitiveservices.azure.com", "client", CancellationToken.None)).Token);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _account.Http.SendAsync(request, giveUp.Token));

        await cancelled.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);
        Assert.Equal(MockMetrics.Waiting, Assert.Single(cancelled.GetMeasurementSnapshot()).Tags["stage"]);
    }

    [Fact]
    public async Task Recover_ReleasesHeldRequests_AndClearsEveryFault()
    {
        await SetAsync("""{"kind":"hang","seconds":600}""");
        await SetAsync("""{"kind":"fail","count":5}""");
        var held = ChatAsync();
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(600), TestTimeouts.Request);

        using var recovered = await _account.Admin.DeleteAsync(new Uri(FaultsApi.Path, UriKind.Relative)).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Empty(JsonDocument.Parse(await recovered.Content.ReadAsStringAsync()).RootElement.GetProperty("faults").EnumerateArray());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => held.WaitAsync(TestTimeouts.Request));
        using var served = await ChatAsync();
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Reset_NextTwoRequests_DropsTheirConnections_ThenServes()
    {
        await SetAsync("""{"kind":"reset","count":2}""");

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => ChatAsync());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => ChatAsync());
        using var served = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(3, (await JournalAsync()).Count);
    }

    [Fact]
    public async Task Reset_ForTenSeconds_DropsEveryConnectionUntilItExpires()
    {
        await SetAsync("""{"kind":"reset","seconds":10}""");

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => ChatAsync());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => ChatAsync());
        _time.Advance(TimeSpan.FromSeconds(10));
        using var served = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Slow_AddsItsLatencyOnTheAccountsClock_UntilItExpires()
    {
        await SetAsync("""{"kind":"slow","seconds":30,"latencyMs":2000}""");

        var slowed = ChatAsync();
        await _time.WaitForTimerAsync(TimeSpan.FromMilliseconds(2000), TestTimeouts.Request);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(200);
        Assert.False(slowed.IsCompleted, "the answer came before the added latency had passed");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        using var answered = await slowed;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);

        _time.Advance(TimeSpan.FromSeconds(30));
        using var fast = await ChatAsync();
        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
    }

    [Fact]
    public async Task Get_ListsTheFaultsInForce_AndForgetsExpiredOnes()
    {
        await SetAsync("""{"kind":"throttle","seconds":30,"retryAfter":10,"deployment":"gpt-4o"}""");
        await SetAsync("""{"kind":"fail","count":3,"status":503}""");

        var state = await StateAsync();
        _time.Advance(TimeSpan.FromSeconds(30));
        var later = await StateAsync();

        Assert.Equal(2, state.GetArrayLength());
        Assert.Equal("throttle", state[0].GetProperty("kind").GetString());
        Assert.Equal("gpt-4o", state[0].GetProperty("deployment").GetString());
        Assert.Equal(10, state[0].GetProperty("retryAfter").GetInt32());
        Assert.Equal("2026-12-05T09:00:30.0000000+00:00", state[0].GetProperty("until").GetString());
        Assert.Equal(3, state[1].GetProperty("remaining").GetInt32());
        Assert.Equal(503, state[1].GetProperty("status").GetInt32());
        Assert.Equal("fail", Assert.Single(later.EnumerateArray()).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Set_SameKindAndScope_ReplacesThePreviousFault()
    {
        await SetAsync("""{"kind":"throttle","seconds":30,"retryAfter":10}""");
        await SetAsync("""{"kind":"throttle","seconds":5,"retryAfter":2}""");

        var state = await StateAsync();

        Assert.Equal(2, Assert.Single(state.EnumerateArray()).GetProperty("retryAfter").GetInt32());
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[]", "JSON object")]
    [InlineData("""{"kind":"explode"}""", "'kind' must be one of throttle, fail, hang, reset, slow")]
    [InlineData("""{"kind":"throttle"}""", "'throttle' needs 'seconds'")]
    [InlineData("""{"kind":"throttle","seconds":0}""", "'seconds' must be a whole number from 1 to 86400")]
    [InlineData("""{"kind":"throttle","seconds":"30"}""", "'seconds' must be a whole number")]
    [InlineData("""{"kind":"throttle","seconds":30,"count":2}""", "'count' is not a setting of 'throttle'")]
    [InlineData("""{"kind":"fail","count":1,"status":502}""", "'status' must be 500 or 503")]
    [InlineData("""{"kind":"fail","seconds":10}""", "'seconds' is not a setting of 'fail'")]
    [InlineData("""{"kind":"reset","count":1,"seconds":10}""", "either 'count'")]
    [InlineData("""{"kind":"slow","seconds":10}""", "'latencyMs'")]
    [InlineData("""{"kind":"hang","seconds":10,"deployment":"gpt-5"}""", "'deployment' must name one of this account's deployments: gpt-4o, text-embedding-3-small")]
    public async Task Set_BadInput_Is400WithAClearMessage_AndSetsNothing(string body, string message)
    {
        using var response = await _account.Admin.PostAsync(new Uri(FaultsApi.Path, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("InvalidFault", error.GetProperty("code").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await StateAsync()).GetArrayLength());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("admin:wrong-password")]
    public async Task Faults_WithoutTheAdminCredentials_Is401_AndSetsNothing(string? credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, FaultsApi.Path) { Content = new StringContent("""{"kind":"fail","count":1}""", Encoding.UTF8, "application/json") };
        if (credentials is not null)
        {
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        using var response = await _account.Http.SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var chat = await ChatAsync();
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    private async Task SetAsync(string json)
    {
        using var response = await _account.Admin.PostAsync(new Uri(FaultsApi.Path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json")).WaitAsync(TestTimeouts.Request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> StateAsync() =>
        JsonDocument.Parse(await _account.Admin.GetStringAsync(new Uri(FaultsApi.Path, UriKind.Relative)).WaitAsync(TestTimeouts.Request)).RootElement.GetProperty("faults").Clone();

    private Task<HttpResponseMessage> ChatAsync() =>
        _account.SendAsync(HttpMethod.Post, ChatPath, """{"messages":[{"role":"user","content":"Count the regions."}],"max_tokens":5}""");

    private async Task<IReadOnlyList<string>> JournalAsync()
    {
        var journal = JsonDocument.Parse(await _account.Admin.GetStringAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request));
        return [.. journal.RootElement.EnumerateArray().Select(e => e.GetProperty("Request").GetProperty("Path").GetString()!).Where(p => p.StartsWith("/openai/", StringComparison.Ordinal))];
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Join(",", response.Content.Headers.GetValues(name));
}
