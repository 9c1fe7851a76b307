using System.Globalization;
using System.Net;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Policies.Elements;

public sealed class QuotaPolicyTests : IDisposable
{
    private const string Unreachable = "http://127.0.0.1:9";
    private const string TeamKey = """counter-key="@(context.Request.Headers.GetValueOrDefault("x-team", "none"))" """;

    private readonly TestApim _apim = new();

    // A Thursday, 8 min 24 s before the hour: the wait of the API Management response quoted in docs/fidelity.md.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 51, 36, TimeSpan.Zero));

    [Fact]
    [Covers("quota-by-key", "calls", "renewal-period", "counter-key")]
    public async Task QuotaByKey_OverTheCalls_Returns403WithRetryAfter_ThenRenewsWithThePeriod()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="2" renewal-period="3600" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");
        using var otherKey = await SendAsync(client, "b");
        _time.Advance(TimeSpan.FromSeconds(503));
        using var lastSecond = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(1));
        using var renewed = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Quota Exceeded", refused.ReasonPhrase);
        Assert.Equal("504", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 00:08:24." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, lastSecond.StatusCode);
        Assert.Equal("1", lastSecond.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 00:00:01." }""", await lastSecond.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
    }

    [Fact]
    [Covers("quota-by-key", "first-period-start", "renewal-period", "calls")]
    public async Task QuotaByKey_FirstPeriodStart_AlignsThePeriodsAndWritesDays()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="1" renewal-period="604800" first-period-start="2026-11-24T12:23:11Z" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 12, 23, 10, TimeSpan.Zero));
        using var lastSecond = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(1));
        using var renewed = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // The week runs from Tuesday 12:23:11 to the next Tuesday 12:23:11: 5 days 2 h 31 min 35 s from now.
        Assert.Equal("441095", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 5.02:31:35." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, lastSecond.StatusCode);
        Assert.Equal("1", lastSecond.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
    }

    [Fact]
    [Covers("quota-by-key", "renewal-period", "first-period-start")]
    public async Task QuotaByKey_WithoutFirstPeriodStart_AlignsPeriodsToYearOne()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="1" renewal-period="604800" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");

        // 0001-01-01 was a Monday, so the weeks run Monday to Monday: this one ends on Monday 30 November.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((3 * 86400 + 14 * 3600 + 8 * 60 + 24).ToString(CultureInfo.InvariantCulture), refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 3.14:08:24." }""", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("quota-by-key", "renewal-period", "calls")]
    public async Task QuotaByKey_RenewalPeriodZero_NeverRenews()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="1" renewal-period="0" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromDays(3650));
        using var tenYearsLater = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // The one period ends with DateTimeOffset.MaxValue.
        Assert.Equal("251606614104", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 2912113.14:08:24." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, tenYearsLater.StatusCode);
    }

    [Fact]
    [Covers("quota-by-key", "bandwidth", "renewal-period")]
    public async Task QuotaByKey_Bandwidth_CountsResponseBodiesAndRefusesOnceReached()
    {
        // 600 bytes a response against 1 KB: the second response crosses 1024 bytes, the third request is refused.
        using var factory = Start($"""
            <inbound>
              <quota-by-key bandwidth="1" renewal-period="3600" {TeamKey}/>
              <return-response>
                <set-body>{new string('x', 600)}</set-body>
              </return-response>
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");
        using var otherKey = await SendAsync(client, "b");

        Assert.Equal(600, (await first.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("504", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of bandwidth quota. Quota will be replenished in 00:08:24." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
    }

    [Fact]
    [Covers("quota-by-key", "bandwidth")]
    public async Task QuotaByKey_Bandwidth_CountsTheForwardedRequestBodyAndTheStreamedResponse()
    {
        await using var backend = await RecordingBackend.StartAsync();
        File.WriteAllText(_apim.PolicyPath, $"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
                <quota-by-key bandwidth="1" renewal-period="3600" {TeamKey}/>
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, backend.Url, time: _time);
        using var client = factory.CreateClient();
        var body = new string('x', 500);

        // 500 request bytes + 11 response bytes ({"ok":true}) a call: 511, 1022, then 1533 crosses 1024.
        using var first = await SendAsync(client, "a", body: body);
        using var second = await SendAsync(client, "a", body: body);
        using var third = await SendAsync(client, "a", body: body);
        using var refused = await SendAsync(client, "a", body: body);

        Assert.Equal("""{"ok":true}""", await first.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(3, backend.Requests.Count);
        Assert.All(backend.Requests, r => Assert.Equal(body, r.Body));
    }

    [Fact]
    [Covers("quota-by-key", "bandwidth")]
    public async Task QuotaByKey_Bandwidth_CountsARequestBodyHeldInMemoryAtItsSize()
    {
        using var factory = Start($"""
            <inbound>
              <set-variable name="prompt" value="@(context.Request.Body.As<string>(preserveContent: true))" />
              <quota-by-key bandwidth="1" renewal-period="3600" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();
        var body = new string('x', 600);

        using var first = await SendAsync(client, "a", body: body);
        using var second = await SendAsync(client, "a", body: body);
        using var refused = await SendAsync(client, "a", body: body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.StartsWith("""{ "statusCode": 403, "message": "Out of bandwidth quota.""", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Covers("quota-by-key", "increment-condition", "calls")]
    public async Task QuotaByKey_IncrementCondition_CountsOnlyMatchingResponses()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="1" renewal-period="3600" {TeamKey}increment-condition="@(context.Response.StatusCode == 201)" />
              <return-response>
                <set-status code="@(context.Request.Headers.GetValueOrDefault("x-status", "200"))" reason="Set" />
              </return-response>
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var notCounted = await SendAsync(client, "a", status: "200");
        using var alsoNotCounted = await SendAsync(client, "a", status: "200");
        using var counted = await SendAsync(client, "a", status: "201");
        using var refused = await SendAsync(client, "a", status: "201");

        Assert.Equal(HttpStatusCode.OK, notCounted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alsoNotCounted.StatusCode);
        Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    [Covers("quota-by-key", "increment-condition", "bandwidth")]
    public async Task QuotaByKey_IncrementConditionFalse_DoesNotCountTheBytesEither()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key bandwidth="1" renewal-period="3600" {TeamKey}increment-condition="@(context.Response.StatusCode == 201)" />
              <return-response>
                <set-status code="@(context.Request.Headers.GetValueOrDefault("x-status", "200"))" reason="Set" />
                <set-body>{new string('x', 2000)}</set-body>
              </return-response>
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var notCounted = await SendAsync(client, "a", status: "200");
        using var counted = await SendAsync(client, "a", status: "201");
        using var refused = await SendAsync(client, "a", status: "200");

        Assert.Equal(HttpStatusCode.OK, notCounted.StatusCode);
        Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    [Covers("quota-by-key", "increment-count", "calls")]
    public async Task QuotaByKey_IncrementCount_AddsThatManyCalls()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="5" renewal-period="3600" {TeamKey}increment-count="@(int.Parse(context.Request.Headers.GetValueOrDefault("x-count", "1")))" />
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var three = await SendAsync(client, "a", count: "3");
        using var four = await SendAsync(client, "a", count: "1");
        using var five = await SendAsync(client, "a", count: "1");
        using var refused = await SendAsync(client, "a", count: "1");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden], new[] { three, four, five, refused }.Select(r => r.StatusCode));
    }

    [Fact]
    [Covers("quota-by-key", "counter-key", "calls")]
    public async Task QuotaByKey_TwoQuotasOnOneKey_CountARequestOnce()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="2" renewal-period="3600" {TeamKey}/>
              <quota-by-key calls="2" renewal-period="3600" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden], new[] { first, second, refused }.Select(r => r.StatusCode));
    }

    [Fact]
    [Covers("quota-by-key", "calls", "renewal-period")]
    public async Task QuotaByKey_TwoQuotasOnOneKeyWithDifferentPeriods_EachHoldsItsOwnLimit()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="2" renewal-period="3600" {TeamKey}/>
              <quota-by-key calls="3" renewal-period="86400" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await SendAsync(client, "a");
            statuses.Add(response.StatusCode);
        }

        // The hourly quota refuses the third call before the daily one sees it; an hour later the daily one has one call
        // left, then refuses (each counter keeps its own count: neither resets the other).
        _time.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 2; i++)
        {
            using var response = await SendAsync(client, "a");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.OK, HttpStatusCode.Forbidden], statuses);
    }

    [Fact]
    [Covers("quota-by-key", "calls")]
    public async Task QuotaByKey_ConcurrentRequests_NeverPassTheLimitTogether()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key calls="5" renewal-period="3600" {TeamKey}/>
              <return-response />
            </inbound>
            """);
        using var client = factory.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SendAsync(client, "a")));

        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(35, responses.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    [Covers("quota-by-key", "calls")]
    public async Task QuotaByKey_OverTheQuota_GoesToOnErrorWithQuotaExceeded()
    {
        using var factory = Start($"""
            <inbound>
              <quota-by-key id="team-quota" calls="1" renewal-period="3600" {TeamKey}/>
              <return-response />
            </inbound>
            <on-error>
              <set-header name="x-error" exists-action="override">
                <value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.PolicyId + "|" + context.LastError.Message)</value>
              </set-header>
            </on-error>
            """);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("quota-by-key|QuotaExceeded|team-quota|Out of call volume quota. Quota will be replenished in 00:08:24.", refused.Headers.GetValues("x-error").Single());
    }

    [Fact]
    [Covers("quota", "calls", "renewal-period")]
    public async Task Quota_IsPerSubscription_WithPeriodsFromTheSubscriptionStart()
    {
        using var factory = StartInProduct("""<quota calls="1" renewal-period="604800" />""");
        using var withIndexer = factory.WithWebHostBuilder(b => b.UseSetting("Apim:Subscriptions:search-indexer:PrimaryKey", "indexer-key"));
        using var indexerClient = withIndexer.CreateClient();

        using var first = await SendAsync(indexerClient, "a", key: GatewayFactory.PrimaryKey);
        using var refused = await SendAsync(indexerClient, "b", key: GatewayFactory.SecondaryKey);
        using var otherSubscription = await SendAsync(indexerClient, "a", key: "indexer-key");

        // The subscription's start is the Unix epoch, a Thursday: this week ends on Thursday 3 December.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal((6 * 86400 + 14 * 3600 + 8 * 60 + 24).ToString(CultureInfo.InvariantCulture), refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 6.14:08:24." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, otherSubscription.StatusCode);
    }

    [Fact]
    [Covers("quota", "bandwidth", "renewal-period")]
    public async Task Quota_Bandwidth_RefusesOnceTheKilobytesAreUsed()
    {
        using var factory = StartInProduct("""<quota bandwidth="1" renewal-period="3600" />""", $"<return-response><set-body>{new string('x', 1024)}</set-body></return-response>");
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var refused = await SendAsync(client, "a");
        _time.Advance(TimeSpan.FromSeconds(504));
        using var renewed = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("""{ "statusCode": 403, "message": "Out of bandwidth quota. Quota will be replenished in 00:08:24." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
    }

    [Theory]
    [Covers("quota-by-key", "calls", "bandwidth", "renewal-period", "first-period-start", "counter-key", "increment-count", "increment-condition")]
    [InlineData("""<quota-by-key renewal-period="3600" counter-key="k" />""", "<quota-by-key> needs calls, bandwidth or both")]
    [InlineData("""<quota-by-key calls="many" renewal-period="3600" counter-key="k" />""", "attribute 'calls' of <quota-by-key> must be a whole number from 1 to 2147483647, not 'many'")]
    [InlineData("""<quota-by-key calls="@(5)" renewal-period="3600" counter-key="k" />""", "attribute 'calls' of <quota-by-key> does not accept policy expressions")]
    [InlineData("""<quota-by-key bandwidth="0" renewal-period="3600" counter-key="k" />""", "attribute 'bandwidth' of <quota-by-key> must be a whole number from 1 to 2147483647, not '0'")]
    [InlineData("""<quota-by-key calls="5" counter-key="k" />""", "<quota-by-key> requires attribute 'renewal-period'")]
    [InlineData("""<quota-by-key calls="5" renewal-period="60" counter-key="k" />""", "renewal-period of <quota-by-key> must be 0 (never renews) or at least 300 seconds, not 60")]
    [InlineData("""<quota-by-key calls="5" renewal-period="@(3600)" counter-key="k" />""", "attribute 'renewal-period' of <quota-by-key> does not accept policy expressions")]
    [InlineData("""<quota-by-key calls="5" renewal-period="3600" />""", "<quota-by-key> requires attribute 'counter-key'")]
    [InlineData("""<quota-by-key calls="5" renewal-period="3600" counter-key="k" first-period-start="next monday" />""", "attribute 'first-period-start' of <quota-by-key> must be an ISO 8601 date and time such as 2024-01-01T00:00:00Z, not 'next monday'")]
    [InlineData("""<quota-by-key calls="5" renewal-period="3600" counter-key="k" increment-count="-1" />""", "attribute 'increment-count' of <quota-by-key> must be a whole number of 0 or more, not '-1'")]
    [InlineData("""<quota-by-key calls="5" renewal-period="3600" counter-key="k" increment-condition="true" />""", "a condition must be a policy expression such as @(true), not 'true'")]
    public void QuotaByKey_BadAttribute_FailsTheLoad(string element, string expected) => AssertLoadError(element, expected);

    [Theory]
    [Covers("quota", "calls", "bandwidth", "renewal-period")]
    [InlineData("""<quota renewal-period="3600" />""", "<quota> needs calls, bandwidth or both")]
    [InlineData("""<quota calls="5" renewal-period="-1" />""", "attribute 'renewal-period' of <quota> must be a whole number from 0 to 2147483647, not '-1'")]
    [InlineData("""<quota calls="5" bandwidth="@(1)" renewal-period="3600" />""", "attribute 'bandwidth' of <quota> does not accept policy expressions")]
    [InlineData("""<quota calls="5" renewal-period="3600" counter-key="k" />""", "unknown attribute 'counter-key' on <quota>")]
    [InlineData("""<quota calls="5" renewal-period="3600" first-period-start="2024-01-01T00:00:00Z" />""", "unknown attribute 'first-period-start' on <quota>")]
    [InlineData("""<quota calls="5" renewal-period="3600"><api name="echo" calls="1" /></quota>""", "<api> inside <quota> (per-API and per-operation quotas) is not supported by this gateway yet")]
    public void Quota_BadAttributeOrChild_FailsTheLoad(string element, string expected) => AssertLoadError(element, expected, PolicyScope.Product);

    [Theory]
    [InlineData("global")]
    [InlineData("api")]
    [InlineData("operation")]
    public void Quota_OutsideTheProductScope_FailsTheLoadAsInApiManagement(string scopeName)
    {
        var scope = Enum.Parse<PolicyScope>(scopeName, ignoreCase: true);
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            """<policies><inbound><quota calls="5" renewal-period="3600" /></inbound></policies>""", "policy.xml", scope, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains($"<quota> is not allowed in the {scopeName} scope (API Management allows it in: product)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    [Covers("quota-by-key")]
    public void QuotaByKey_OutsideInbound_FailsTheLoad()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load("""
            <policies>
              <outbound>
                <quota-by-key calls="5" renewal-period="3600" counter-key="k" />
              </outbound>
            </policies>
            """, "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains("<quota-by-key> is not allowed in the outbound section (allowed in: inbound)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    public void Dispose() => _apim.Dispose();

    private static void AssertLoadError(string element, string expected, PolicyScope scope = PolicyScope.Api)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load($"""
            <policies>
              <inbound>
                {element}
              </inbound>
            </policies>
            """, "policy.xml", scope, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(error.Problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string team, string status = "200", string count = "1", string key = GatewayFactory.PrimaryKey, string body = "{}") =>
        client.PostChatAsync(body: body, key: key, headers: [("x-team", team), ("x-status", status), ("x-count", count)]);

    /// <summary>
    /// The gateway on the fake clock with <paramref name="inbound"/> as the inbound section of product <c>starter</c>'s
    /// policy, to which both subscriptions belong (API Management allows <c>quota</c> only there), and an API policy that
    /// answers with <paramref name="answer"/>.
    /// </summary>
    private GatewayFactory StartInProduct(string inbound, string answer = "<return-response />")
    {
        var product = Path.Combine(_apim.Path, "products", "starter");
        Directory.CreateDirectory(product);
        File.WriteAllText(Path.Combine(product, "product.json"), """{ "id": "starter", "apis": [ "azure-openai" ], "policy": "policy.xml" }""");
        File.WriteAllText(Path.Combine(product, "policy.xml"), $"<policies>\n<inbound>\n<base />\n{inbound}\n</inbound>\n</policies>");
        File.WriteAllText(Path.Combine(_apim.Path, "subscriptions.json"), """
            { "subscriptions": [
              { "name": "chat-app", "scope": "/products/starter", "state": "active" },
              { "name": "search-indexer", "scope": "/products/starter", "state": "active" } ] }
            """);
        File.WriteAllText(_apim.PolicyPath, $"<policies>\n<inbound>\n<base />\n{answer}\n</inbound>\n</policies>");
        return new GatewayFactory(_apim, Unreachable, time: _time);
    }

    /// <summary>The gateway on the fake clock with <paramref name="sections"/> as the API policy.</summary>
    private GatewayFactory Start(string sections)
    {
        File.WriteAllText(_apim.PolicyPath, $"<policies>\n{sections}\n</policies>");
        return new GatewayFactory(_apim, Unreachable, time: _time);
    }
}
