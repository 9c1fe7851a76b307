using System.Net;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Policies.Elements;

public sealed class RateLimitPolicyTests : IDisposable
{
    private readonly TestApim _apim = new();

    [Fact]
    [Covers("rate-limit-by-key", "calls", "renewal-period", "counter-key", "remaining-calls-header-name")]
    public async Task RateLimitByKey_OverTheLimit_Returns429WithRetryAfterAndRemainingCalls()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault("x-team", "none"))" remaining-calls-header-name="x-remaining" />
                <return-response />
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        using var third = await SendAsync(client, "a");
        using var otherKey = await SendAsync(client, "b");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("1", first.Headers.GetValues("x-remaining").Single());
        Assert.Equal("0", second.Headers.GetValues("x-remaining").Single());
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        var retryAfter = int.Parse(third.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 59, 60);
        Assert.Equal($$"""{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in {{retryAfter}} seconds." }""", await third.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
    }

    [Fact]
    [Covers("rate-limit-by-key", "increment-condition")]
    public async Task RateLimitByKey_IncrementCondition_CountsOnlyMatchingResponses()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <rate-limit-by-key calls="1" renewal-period="60" counter-key="fixed" increment-condition="@(context.Response.StatusCode == 201)" />
                <return-response>
                  <set-status code="@(context.Request.Headers.GetValueOrDefault("x-status", "200"))" reason="Set" />
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        using var notCounted = await SendAsync(client, "a", status: "200");
        using var counted = await SendAsync(client, "a", status: "201");
        using var refused = await SendAsync(client, "a", status: "200");

        Assert.Equal(HttpStatusCode.OK, notCounted.StatusCode);
        Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
    }

    [Fact]
    [Covers("rate-limit", "calls", "renewal-period")]
    public async Task RateLimit_IsPerSubscription()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <rate-limit calls="1" renewal-period="30" />
                <return-response />
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a", key: GatewayFactory.SecondaryKey);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
    }

    [Fact]
    [Covers("rate-limit-by-key", "calls", "renewal-period")]
    public async Task RateLimitByKey_FullWindow_RefusesUntilTheRenewalPeriodHasPassedOnTheClock()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <rate-limit-by-key calls="2" renewal-period="30" counter-key="fixed" />
                <return-response />
              </inbound>
            </policies>
            """);
        var time = new FakeTimeProvider();
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9", time: time);
        var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        time.Advance(TimeSpan.FromSeconds(10));
        using var refused = await SendAsync(client, "a");
        time.Advance(TimeSpan.FromSeconds(19.5));
        using var stillRefused = await SendAsync(client, "a");
        time.Advance(TimeSpan.FromSeconds(0.5));
        using var renewed = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal("20", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 20 seconds." }""", await refused.Content.ReadAsStringAsync());
        Assert.Equal((HttpStatusCode)429, stillRefused.StatusCode);
        Assert.Equal("1", stillRefused.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
    }

    [Theory]
    [InlineData("rate-limit", "")]
    [InlineData("rate-limit-by-key", """counter-key="fixed" """)]
    [Covers("rate-limit", "retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name", "remaining-calls-variable-name", "total-calls-header-name")]
    [Covers("rate-limit-by-key", "retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name", "remaining-calls-variable-name", "total-calls-header-name")]
    public async Task RateLimit_NamedHeadersAndVariables_CarryTheRemainingCallsAndTheWait(string element, string key)
    {
        File.WriteAllText(_apim.PolicyPath, $$"""
            <policies>
              <inbound>
                <{{element}} calls="2" renewal-period="60" {{key}}
                    retry-after-header-name="x-retry-in" retry-after-variable-name="retry-in"
                    remaining-calls-header-name="x-remaining" remaining-calls-variable-name="remaining" total-calls-header-name="x-total" />
                <return-response>
                  <set-header name="x-remaining-variable" exists-action="override"><value>@(context.Variables["remaining"].ToString())</value></set-header>
                </return-response>
              </inbound>
              <on-error>
                <set-header name="x-retry-variable" exists-action="override"><value>@(context.Variables["retry-in"].ToString())</value></set-header>
              </on-error>
            </policies>
            """);
        var time = new FakeTimeProvider();
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9", time: time);
        var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        time.Advance(TimeSpan.FromSeconds(15));
        using var refused = await SendAsync(client, "a");

        Assert.Equal(["1", "0"], new[] { first, second }.Select(r => r.Headers.GetValues("x-remaining").Single()));
        Assert.Equal(["1", "0"], new[] { first, second }.Select(r => r.Headers.GetValues("x-remaining-variable").Single()));
        Assert.Equal(["2", "2"], new[] { first, second }.Select(r => r.Headers.GetValues("x-total").Single()));
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal("45", refused.Headers.GetValues("x-retry-in").Single());
        Assert.False(refused.Headers.Contains("Retry-After"));
        Assert.Equal("45", refused.Headers.GetValues("x-retry-variable").Single());
    }

    [Fact]
    [Covers("rate-limit-by-key", "increment-count")]
    public async Task RateLimitByKey_IncrementCount_CountsEachCallThatManyTimes()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <rate-limit-by-key calls="4" renewal-period="60" counter-key="fixed" increment-count="2" />
                <return-response />
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await SendAsync(client, "a");
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([200, 200, 429], statuses);
    }

    [Theory]
    [InlineData("""<rate-limit calls="5" renewal-period="60" increment-count="2" />""", "unknown attribute 'increment-count' on <rate-limit>")]
    [InlineData("""<rate-limit calls="@(5)" renewal-period="60" />""", "attribute 'calls' of <rate-limit> does not accept policy expressions")]
    [InlineData("""<rate-limit calls="5" renewal-period="@(60)" />""", "attribute 'renewal-period' of <rate-limit> does not accept policy expressions")]
    public void Load_RateLimit_RefusesWhatOnlyRateLimitByKeyTakes(string element, string reason)
    {
        // API Management's rate-limit has no increment-count, and its calls and renewal-period are literals.
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{element}</inbound></policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("global", false)]
    [InlineData("product", true)]
    [InlineData("api", true)]
    [InlineData("operation", true)]
    public void Load_RateLimit_OnlyInTheScopesApiManagementAllows(string scopeName, bool allowed)
    {
        var scope = Enum.Parse<PolicyScope>(scopeName, ignoreCase: true);
        var text = """<policies><inbound><rate-limit calls="5" renewal-period="60" /><rate-limit-by-key calls="5" renewal-period="60" counter-key="k" /></inbound></policies>""";
        var names = new Gateway.Apim.NamedValues(new Dictionary<string, string?>());

        if (allowed)
        {
            PolicyLoader.Load(text, "policy.xml", scope, names).Dispose();
        }
        else
        {
            var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(text, "policy.xml", scope, names));
            Assert.Contains("<rate-limit> is not allowed in the global scope (API Management allows it in: product, api, operation)", Assert.Single(error.Problems), StringComparison.Ordinal);
        }
    }

    public void Dispose() => _apim.Dispose();

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string team, string status = "200", string key = GatewayFactory.PrimaryKey) =>
        client.PostChatAsync(key: key, headers: [("x-team", team), ("x-status", status)]);
}
