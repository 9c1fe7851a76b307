using System.Diagnostics;
using System.Net;
using Gateway.Policies;
using Gateway.Policies.Elements;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Policies.Elements;

public sealed class TokenLimitPolicyTests : IAsyncLifetime, IDisposable
{
    // 41 min 54 s before the hour, as in the API Management 403 quoted in docs/fidelity.md.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 9, 18, 6, TimeSpan.Zero));
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose() => _apim.Dispose();

    [Theory]
    [InlineData("azure-openai-token-limit")]
    [InlineData("llm-token-limit")]
    [Covers("azure-openai-token-limit", "counter-key", "tokens-per-minute", "estimate-prompt-tokens")]
    [Covers("llm-token-limit", "counter-key", "tokens-per-minute", "estimate-prompt-tokens")]
    public async Task TokenLimit_KeyOverItsTokensPerMinute_Gets429WithRetryAfter_WhileAnotherKeyGoesThrough(string element)
    {
        _backend.Answer = ModelAnswers.Completion(20, 40);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} counter-key="@(context.Request.Headers.GetValueOrDefault("x-team", "none"))" tokens-per-minute="100" estimate-prompt-tokens="false" />
            </inbound>
            <on-error>
              <set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>
            </on-error>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(10));
        using var second = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(10));
        using var refused = await SendAsync(client, "a");
        using var otherKey = await SendAsync(client, "b");
        _time.Advance(TimeSpan.FromSeconds(39));
        using var stillRefused = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(1));
        using var again = await SendAsync(client, "a");

        // 60 tokens, then 120 (the second call was admitted at 60 and overshot, as API Management's does): refused
        // until the first call's 60 leave the minute, 40 s later.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal("40", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 429, "message": "Token limit is exceeded. Try again in 40 seconds." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal($"{element}|OpenAITokenLimitExceeded|Token limit is exceeded. Try again in 40 seconds.", refused.Headers.GetValues("x-error").Single());
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
        Assert.Equal((HttpStatusCode)429, stillRefused.StatusCode);
        Assert.Equal("1", stillRefused.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(4, _backend.Requests.Count);
    }

    [Fact]
    [Covers("azure-openai-token-limit", "tokens-per-minute", "estimate-prompt-tokens")]
    public async Task TokenLimit_ConcurrentRequests_CannotAllPassTheCheckBeforeAnyIsCharged()
    {
        _backend.Answer = ModelAnswers.Completion(20, 40);
        using var factory = Start("""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <azure-openai-token-limit counter-key="fixed" tokens-per-minute="10" estimate-prompt-tokens="true" />
            </inbound>
            """);
        using var client = factory.CreateClient();

        // Each prompt is estimated at 9 tokens (3 for the message, 3 for the reply's priming, "Hello there"): one fits
        // in the minute's 10, a second does not.
        const string Prompt = """{"model":"gpt-4o","messages":[{"role":"user","content":"Hello there"}]}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SendAsync(client, "a", Prompt)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(39, responses.Count(r => r.StatusCode == (HttpStatusCode)429));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [InlineData("azure-openai-token-limit")]
    [InlineData("llm-token-limit")]
    [Covers("azure-openai-token-limit", "token-quota", "token-quota-period")]
    [Covers("llm-token-limit", "token-quota", "token-quota-period")]
    public async Task TokenLimit_QuotaExhausted_Gets403WithApimsBody_UntilThePeriodRenews(string element)
    {
        _backend.Answer = ModelAnswers.Completion(20, 40);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} counter-key="@(context.Subscription.Id)" token-quota="100" token-quota-period="Hourly" estimate-prompt-tokens="false" />
            </inbound>
            <on-error>
              <set-header name="x-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
            </on-error>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");
        _time.SetUtcNow(new DateTimeOffset(2026, 1, 15, 10, 0, 0, TimeSpan.Zero));
        using var renewed = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("2514", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Token quota is exceeded. Try again in 41 minutes and 54 seconds." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal("OpenAITokenQuotaExceeded", refused.Headers.GetValues("x-error").Single());
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
    }

    [Theory]
    [InlineData("Daily", "2026-01-15T09:18:06Z", 52914, "14 hours, 41 minutes and 54 seconds")]
    [InlineData("Weekly", "2026-01-15T09:18:06Z", 312114, "3 days, 14 hours, 41 minutes and 54 seconds")]
    [InlineData("Monthly", "2026-08-07T09:56:58Z", 2124182, "24 days, 14 hours, 3 minutes and 2 seconds")]
    [InlineData("Yearly", "2026-12-31T23:59:59Z", 1, "1 second")]
    [InlineData("Hourly", "2026-01-15T09:00:00Z", 3600, "1 hour")]
    [Covers("llm-token-limit", "token-quota-period")]
    public async Task TokenLimit_QuotaPeriods_EndAtTheNextUtcUnitAndWordTheWait(string period, string now, int seconds, string wait)
    {
        _backend.Answer = ModelAnswers.Completion(5, 6);
        using var factory = Start(time: new FakeTimeProvider(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)), sections: $$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <llm-token-limit counter-key="fixed" token-quota="10" token-quota-period="{{period}}" estimate-prompt-tokens="false" />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal($$"""{ "statusCode": 403, "message": "Token quota is exceeded. Try again in {{wait}}." }""", await refused.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("azure-openai-token-limit")]
    [InlineData("llm-token-limit")]
    [Covers("azure-openai-token-limit", "remaining-tokens-header-name", "remaining-tokens-variable-name", "remaining-quota-tokens-header-name", "remaining-quota-tokens-variable-name", "tokens-consumed-header-name", "tokens-consumed-variable-name", "estimate-prompt-tokens")]
    [Covers("llm-token-limit", "remaining-tokens-header-name", "remaining-tokens-variable-name", "remaining-quota-tokens-header-name", "remaining-quota-tokens-variable-name", "tokens-consumed-header-name", "tokens-consumed-variable-name", "estimate-prompt-tokens")]
    public async Task TokenLimit_NamedHeadersAndVariables_CarryTheEstimateInInbound_AndTheReportedUsageAfterTheResponse(string element)
    {
        _backend.Answer = ModelAnswers.Completion(ModelAnswers.HelloWorldPromptTokens, 11);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} counter-key="team" tokens-per-minute="1000" token-quota="5000" token-quota-period="Daily" estimate-prompt-tokens="true"
                  remaining-tokens-header-name="x-remaining" remaining-tokens-variable-name="remaining"
                  remaining-quota-tokens-header-name="x-remaining-quota" remaining-quota-tokens-variable-name="remaining-quota"
                  tokens-consumed-header-name="x-consumed" tokens-consumed-variable-name="consumed" />
              <set-variable name="in-inbound" value="@(context.Variables["remaining"] + "|" + context.Variables["remaining-quota"] + "|" + context.Variables["consumed"])" />
            </inbound>
            <outbound>
              <set-header name="x-in-inbound" exists-action="override"><value>@((string)context.Variables["in-inbound"])</value></set-header>
              <set-header name="x-in-outbound" exists-action="override"><value>@(context.Variables["consumed"].ToString())</value></set-header>
            </outbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a", ModelAnswers.HelloWorldChat);
        using var second = await SendAsync(client, "a", ModelAnswers.HelloWorldChat);

        // Inbound: the estimated prompt (9) is charged and reported; the response reports 9 + 11 = 20, which replaces it.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("991|4991|9", Header(first, "x-in-inbound"));
        Assert.Equal("20", Header(first, "x-in-outbound"));
        Assert.Equal("980", Header(first, "x-remaining"));
        Assert.Equal("4980", Header(first, "x-remaining-quota"));
        Assert.Equal("20", Header(first, "x-consumed"));
        Assert.Equal("971|4971|9", Header(second, "x-in-inbound"));
        Assert.Equal("960", Header(second, "x-remaining"));
        Assert.Equal("4960", Header(second, "x-remaining-quota"));
    }

    [Theory]
    [InlineData("azure-openai-token-limit", """tokens-per-minute="10" """, 429)]
    [InlineData("llm-token-limit", """tokens-per-minute="10" """, 429)]
    [InlineData("azure-openai-token-limit", """token-quota="10" token-quota-period="Hourly" """, 403)]
    [InlineData("llm-token-limit", """token-quota="10" token-quota-period="Hourly" """, 403)]
    [Covers("azure-openai-token-limit", "retry-after-header-name", "retry-after-variable-name")]
    [Covers("llm-token-limit", "retry-after-header-name", "retry-after-variable-name")]
    public async Task TokenLimit_RetryAfterNames_CarryTheWaitInsteadOfRetryAfter(string element, string limit, int status)
    {
        _backend.Answer = ModelAnswers.Completion(9, 11);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} counter-key="team" {{limit}} estimate-prompt-tokens="false" retry-after-header-name="x-retry-in" retry-after-variable-name="retry-in" />
            </inbound>
            <on-error>
              <set-header name="x-retry-variable" exists-action="override"><value>@(context.Variables["retry-in"].ToString())</value></set-header>
            </on-error>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(15));
        using var refused = await SendAsync(client, "a");

        var wait = status == 429 ? "45" : "2499";
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(status, (int)refused.StatusCode);
        Assert.Equal(wait, Header(refused, "x-retry-in"));
        Assert.False(refused.Headers.Contains("Retry-After"));
        Assert.Equal(wait, Header(refused, "x-retry-variable"));
    }

    [Theory]
    [InlineData("azure-openai-token-limit")]
    [InlineData("llm-token-limit")]
    [Covers("azure-openai-token-limit", "estimate-prompt-tokens", "tokens-per-minute")]
    [Covers("llm-token-limit", "estimate-prompt-tokens", "tokens-per-minute")]
    public async Task TokenLimit_EstimatePromptTokens_RefusesAPromptOverTheLimitBeforeForwarding_WhileActualCountingLetsItOvershootOnce(string element)
    {
        _backend.Answer = ModelAnswers.Completion(ModelAnswers.HelloWorldPromptTokens, 11);
        using var factory = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} counter-key="estimate" tokens-per-minute="5" estimate-prompt-tokens="true" />
            </inbound>
            """);
        using var client = factory.CreateClient();

        // The estimate (9 prompt tokens) does not fit in 5: refused at once, the whole minute to wait, nothing forwarded.
        using var estimated = await SendAsync(client, "a", ModelAnswers.HelloWorldChat);
        Assert.Equal((HttpStatusCode)429, estimated.StatusCode);
        Assert.Equal("60", Header(estimated, "Retry-After"));
        Assert.Empty(_backend.Requests);

        // Counting actual usage only: the call goes through, its 20 tokens are counted, and the next call is refused.
        using var factoryActual = Start($$"""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <{{element}} counter-key="actual" tokens-per-minute="5" estimate-prompt-tokens="false" />
            </inbound>
            """);
        using var actualClient = factoryActual.CreateClient();
        using var overshoot = await SendAsync(actualClient, "a", ModelAnswers.HelloWorldChat);
        using var refused = await SendAsync(actualClient, "a", ModelAnswers.HelloWorldChat);
        Assert.Equal(HttpStatusCode.OK, overshoot.StatusCode);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Single(_backend.Requests);
    }

    [Theory]
    [InlineData(true, 986)]
    [InlineData(false, 989)]
    [Covers("llm-token-limit", "tokens-per-minute", "remaining-tokens-header-name", "tokens-consumed-header-name", "estimate-prompt-tokens")]
    [Covers("azure-openai-token-limit", "tokens-per-minute", "remaining-tokens-header-name", "tokens-consumed-header-name", "estimate-prompt-tokens")]
    public async Task TokenLimit_StreamedResponse_ReachesTheClientChunkByChunk_AndCountsTheUsageChunkOrTheStreamedText(bool includeUsage, int remainingAfter)
    {
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Answer = ModelAnswers.Stream(["Hello", " world"], includeUsage ? (9, 5) : null, rest.Task);
        using var factory = Start("""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <llm-token-limit counter-key="team" tokens-per-minute="1000" estimate-prompt-tokens="false"
                  remaining-tokens-header-name="x-remaining" remaining-tokens-variable-name="remaining" tokens-consumed-header-name="x-consumed" />
              <choose>
                <when condition="@(context.Request.Headers.ContainsKey("x-probe"))">
                  <return-response>
                    <set-header name="x-remaining" exists-action="override"><value>@(context.Variables["remaining"].ToString())</value></set-header>
                  </return-response>
                </when>
              </choose>
            </inbound>
            <backend>
              <forward-request buffer-response="false" />
            </backend>
            """);
        using var client = factory.CreateClient();

        using var streamed = await client.PostChatAsync(body: ModelAnswers.HelloWorldStream(includeUsage), headers: [("x-team", "a")], completion: HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());

        // The headers left before any usage was known: a stream's prompt is always estimated (9), and charged.
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal("991", Header(streamed, "x-remaining"));
        Assert.Equal("9", Header(streamed, "x-consumed"));

        // The first chunk reaches the client while the backend has not written the rest.
        Assert.Contains("\"role\":\"assistant\"", await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.Equal(string.Empty, await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request));
        Assert.Contains("\"content\":\"Hello\"", await reader.ReadLineAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.False(rest.Task.IsCompleted);
        rest.SetResult();
        var remainder = await reader.ReadToEndAsync().WaitAsync(TestTimeouts.Request);
        Assert.Contains("\"content\":\" world\"", remainder, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", remainder, StringComparison.Ordinal);

        // Then the stream is counted: its usage chunk (9 + 5), or the estimate and the text streamed (9 + 2).
        Assert.Equal(remainingAfter.ToString(System.Globalization.CultureInfo.InvariantCulture), await ProbeUntilAsync(client, remainingAfter));
    }

    [Theory]
    [InlineData("""<azure-openai-token-limit counter-key="k" tokens-per-minute="5" />""", "requires attribute 'estimate-prompt-tokens'")]
    [InlineData("""<llm-token-limit counter-key="k" estimate-prompt-tokens="false" />""", "needs tokens-per-minute, token-quota with token-quota-period, or both")]
    [InlineData("""<llm-token-limit counter-key="k" token-quota="5" estimate-prompt-tokens="false" />""", "needs token-quota and token-quota-period together")]
    [InlineData("""<llm-token-limit counter-key="k" token-quota="5" token-quota-period="Fortnightly" estimate-prompt-tokens="false" />""", "must be Hourly, Daily, Weekly, Monthly or Yearly, not 'Fortnightly'")]
    [InlineData("""<llm-token-limit counter-key="k" tokens-per-minute="@(5)" estimate-prompt-tokens="false" />""", "attribute 'tokens-per-minute' of <llm-token-limit> does not accept policy expressions")]
    [InlineData("""<azure-openai-token-limit counter-key="k" token-quota="@(5L)" token-quota-period="Daily" estimate-prompt-tokens="false" />""", "attribute 'token-quota' of <azure-openai-token-limit> does not accept policy expressions")]
    [InlineData("""<azure-openai-token-limit tokens-per-minute="5" estimate-prompt-tokens="false" />""", "requires attribute 'counter-key'")]
    [InlineData("""<llm-token-limit counter-key="k" tokens-per-minute="0" estimate-prompt-tokens="false" />""", "must be a whole number from 1")]
    public void Load_InvalidTokenLimit_Fails(string element, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($"<inbound>{element}</inbound>"));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    [Covers("llm-token-limit", "token-quota", "token-quota-period")]
    public async Task LlmTokenLimit_QuotaAndPeriodExpressions_AreEvaluatedPerRequest()
    {
        _backend.Answer = ModelAnswers.Completion(5, 6);
        using var factory = Start("""
            <inbound>
              <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              <llm-token-limit counter-key="team" token-quota="@(context.Request.Headers.GetValueOrDefault("x-team", "") == "big" ? 1000L : 10L)" token-quota-period="@("Da" + "ily")" estimate-prompt-tokens="false" />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "small");
        using var refused = await SendAsync(client, "small");
        using var bigger = await SendAsync(client, "big");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bigger.StatusCode);
    }

    [Theory]
    [InlineData("azure-openai-token-limit")]
    [InlineData("llm-token-limit")]
    public void Load_TokenLimitOutsideInbound_Fails(string element)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($"""<outbound><{element} counter-key="k" tokens-per-minute="5" estimate-prompt-tokens="false" /></outbound>"""));

        Assert.Contains($"<{element}> is not allowed in the outbound section (allowed in: inbound)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Wait_WordsTheUnitsThatAreNotZero()
    {
        Assert.Equal("41 minutes and 54 seconds", TokenLimitPolicy.Wait(2514));
        Assert.Equal("1 day, 1 hour, 1 minute and 1 second", TokenLimitPolicy.Wait(90061));
        Assert.Equal("2 days", TokenLimitPolicy.Wait(172800));
    }

    private static PolicyDocument Load(string sections) =>
        PolicyLoader.Load($"<policies>{sections}</policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>()));

    private GatewayFactory Start(string sections, FakeTimeProvider? time = null)
    {
        File.WriteAllText(_apim.PolicyPath, $"<policies>{sections}</policies>");
        return new GatewayFactory(_apim, _backend.Url, time: time ?? _time);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string team, string body = "{}") =>
        client.PostChatAsync(body: body, headers: [("x-team", team)]);

    /// <summary>Asks for the remaining tokens until they read <paramref name="expected"/> (a stream is counted once it has been sent, just after the client has it all).</summary>
    private static async Task<string> ProbeUntilAsync(HttpClient client, int expected)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var probe = await client.PostChatAsync(headers: [("x-team", "a"), ("x-probe", "1")]);
            var remaining = Header(probe, "x-remaining");
            if (remaining == expected.ToString(System.Globalization.CultureInfo.InvariantCulture) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return remaining;
            }

            await Task.Delay(20);
        }
    }

    private static string Header(HttpResponseMessage response, string name) => string.Join(",", response.Headers.GetValues(name));
}
