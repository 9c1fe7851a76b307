using System.Net;
using System.Text.Json;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Admin;

public sealed class AdminApiTests : IDisposable
{
    private const string AdminKey = "admin-key-for-the-tests-0123456789";

    /// <summary>Stores <c>x-store</c> in the cache, rate-limits requests with <c>x-limited</c> (one call in 10 minutes), and answers with the cached value.</summary>
    private readonly TestApim _apim = new("""
        <policies>
          <inbound>
            <choose>
              <when condition="@(context.Request.Headers.GetValueOrDefault("x-store", "") != "")">
                <cache-store-value key="stored" value="@(context.Request.Headers.GetValueOrDefault("x-store", ""))" duration="600" />
              </when>
            </choose>
            <rate-limit-by-key calls="1" renewal-period="600" counter-key="@(context.Request.Headers.GetValueOrDefault("x-limited", "unlimited-" + context.RequestId))" />
            <cache-lookup-value key="stored" variable-name="stored" default-value="none" />
            <return-response>
              <set-header name="x-stored" exists-action="override"><value>@((string)context.Variables["stored"])</value></set-header>
            </return-response>
          </inbound>
        </policies>
        """);

    public void Dispose() => _apim.Dispose();

    [Theory]
    [InlineData("POST", "/_gateway/admin/reset")]
    [InlineData("POST", "/_gateway/admin/reset?scope=all")]
    [InlineData("GET", "/_gateway/admin/state")]
    public async Task AdminEndpoints_NoKeyConfigured_DoNotExist(string method, string path)
    {
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await AdminAsync(factory.CreateClient(), method, path, AdminKey);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"statusCode": 404, "message": "Resource not found"}""", await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-key-for-the-tests-0123456789")]
    [InlineData("ADMIN-KEY-FOR-THE-TESTS-0123456789")]
    [InlineData(AdminKey + "x")]
    public async Task AdminEndpoints_MissingOrWrongKey_Return401AndResetNothing(string? key)
    {
        using var factory = CreateFactory();
        var client = factory.CreateClient();
        using var stored = await CallApiAsync(client, ("x-store", "v1"));

        using var reset = await AdminAsync(client, "POST", "/_gateway/admin/reset", key);
        using var state = await AdminAsync(client, "GET", "/_gateway/admin/state", key);
        using var lookup = await CallApiAsync(client);

        Assert.Equal(HttpStatusCode.Unauthorized, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, state.StatusCode);
        Assert.Equal(
            """{"statusCode":401,"message":"Access denied due to a missing or invalid admin key. Send Gateway:AdminKey in the x-admin-key header."}""",
            await reset.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        Assert.Equal("v1", lookup.Headers.GetValues("x-stored").Single());
    }

    [Fact]
    public async Task Reset_RightKey_ServesARateLimitedKeyAgainAndForgetsCachedValues()
    {
        using var factory = CreateFactory();
        var client = factory.CreateClient();
        using var stored = await CallApiAsync(client, ("x-store", "v1"));
        using var allowed = await CallApiAsync(client, ("x-limited", "team-a"));
        using var limited = await CallApiAsync(client, ("x-limited", "team-a"));

        using var reset = await AdminAsync(client, "POST", "/_gateway/admin/reset", AdminKey);
        using var servedAgain = await CallApiAsync(client, ("x-limited", "team-a"));

        Assert.Equal("v1", stored.Headers.GetValues("x-stored").Single());
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        using var body = JsonDocument.Parse(await reset.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        Assert.Equal("all", body.RootElement.GetProperty("scope").GetString());
        Assert.Equal(
            ["cache:caches", "semantic-cache:caches", "rate-limit:counters", "quota:counters", "circuit-breakers:breakers", "token-limit:counters", "token-metrics:counters", "backend-traffic:counters"],
            body.RootElement.GetProperty("reset").EnumerateArray().Select(e => $"{e.GetProperty("name").GetString()}:{e.GetProperty("scope").GetString()}"));
        Assert.Equal(HttpStatusCode.OK, servedAgain.StatusCode);
        Assert.Equal("none", servedAgain.Headers.GetValues("x-stored").Single());
    }

    [Fact]
    public async Task Reset_OneScope_LeavesTheOtherScopesAlone()
    {
        using var factory = CreateFactory();
        var client = factory.CreateClient();
        using var stored = await CallApiAsync(client, ("x-store", "v1"));
        using var allowed = await CallApiAsync(client, ("x-limited", "team-a"));

        using var resetCaches = await AdminAsync(client, "POST", "/_gateway/admin/reset?scope=caches", AdminKey);
        using var stillLimited = await CallApiAsync(client, ("x-limited", "team-a"));
        using var storedAgain = await CallApiAsync(client, ("x-store", "v2"));
        using var resetCounters = await AdminAsync(client, "POST", "/_gateway/admin/reset?scope=Counters", AdminKey);
        using var servedAgain = await CallApiAsync(client, ("x-limited", "team-a"));
        using var resetBreakers = await AdminAsync(client, "POST", "/_gateway/admin/reset?scope=breakers", AdminKey);

        Assert.Equal(HttpStatusCode.OK, resetCaches.StatusCode);
        Assert.Equal((HttpStatusCode)429, stillLimited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, resetCounters.StatusCode);
        Assert.Equal(HttpStatusCode.OK, servedAgain.StatusCode);
        Assert.Equal("v2", servedAgain.Headers.GetValues("x-stored").Single());
        Assert.Equal("""{"scope":"breakers","reset":[{"name":"circuit-breakers","scope":"breakers","entries":0}]}""", await resetBreakers.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
    }

    [Fact]
    public async Task Reset_UnknownScope_Returns400AndResetsNothing()
    {
        using var factory = CreateFactory();
        var client = factory.CreateClient();
        using var stored = await CallApiAsync(client, ("x-store", "v1"));

        using var reset = await AdminAsync(client, "POST", "/_gateway/admin/reset?scope=everything", AdminKey);
        using var lookup = await CallApiAsync(client);

        Assert.Equal(HttpStatusCode.BadRequest, reset.StatusCode);
        Assert.Equal(
            """{"statusCode":400,"message":"Unknown scope 'everything'; use one of caches, counters, breakers, all."}""",
            await reset.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        Assert.Equal("v1", lookup.Headers.GetValues("x-stored").Single());
    }

    [Fact]
    public async Task State_RightKey_ListsEachStateWithItsEntries()
    {
        using var factory = CreateFactory();
        var client = factory.CreateClient();
        using var stored = await CallApiAsync(client, ("x-store", "v1"));
        using var limited = await CallApiAsync(client, ("x-limited", "team-a"));

        using var state = await AdminAsync(client, "GET", "/_gateway/admin/state", AdminKey);

        Assert.Equal(HttpStatusCode.OK, state.StatusCode);
        Assert.Equal(
            """{"states":[{"name":"cache","scope":"caches","entries":1},{"name":"semantic-cache","scope":"caches","entries":0},{"name":"rate-limit","scope":"counters","entries":2},{"name":"quota","scope":"counters","entries":0},{"name":"circuit-breakers","scope":"breakers","entries":0},{"name":"token-limit","scope":"counters","entries":0},{"name":"token-metrics","scope":"counters","entries":0},{"name":"backend-traffic","scope":"counters","entries":0}],"breakers":[],"tokenMetrics":[]}""",
            await state.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
    }

    [Fact]
    public async Task State_ListsEachBackendsBreaker_AndTheTokenMetricsSums()
    {
        await using var backend = await RecordingBackend.StartAsync();
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="metered" />
                <azure-openai-emit-token-metric namespace="tests">
                  <dimension name="Subscription ID" />
                </azure-openai-emit-token-metric>
              </inbound>
              <backend><forward-request /></backend>
            </policies>
            """);
        TestTopology.AddBackends(apim, TestTopology.Single("metered", backend.Url, "\"count\": 1, \"interval\": \"PT1M\", \"statusCodeRanges\": [ { \"min\": 429, \"max\": 429 } ]"));
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        using var factory = new GatewayFactory(apim, backend.Url, time: time, settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey });
        var client = factory.CreateClient();
        var completion = ModelAnswers.Completion(9, 11);
        backend.Answer = completion;
        using var first = await CallApiAsync(client);
        using var second = await CallApiAsync(client);
        backend.Answer = context =>
        {
            context.Response.StatusCode = (int)HttpStatusCode.TooManyRequests;
            return Task.CompletedTask;
        };
        using var throttled = await CallApiAsync(client);

        using var state = await AdminAsync(client, "GET", "/_gateway/admin/state", AdminKey);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests), (first.StatusCode, second.StatusCode, throttled.StatusCode));
        using var json = JsonDocument.Parse(await state.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        Assert.Equal(
            """[{"backendId":"metered","state":"open","trippedUntil":"2026-12-05T10:01:00+00:00","trip":{"at":"2026-12-05T10:00:00+00:00","until":"2026-12-05T10:01:00+00:00","statusCode":429,"errorReason":null,"retryAfterHonoured":false,"rule":"metered-breaker"}}]""",
            json.RootElement.GetProperty("breakers").GetRawText());
        Assert.Equal(
            """[{"name":"Completion Tokens","dimensions":{"Subscription ID":"chat-app","namespace":"tests"},"value":22},{"name":"Prompt Tokens","dimensions":{"Subscription ID":"chat-app","namespace":"tests"},"value":18},{"name":"Total Tokens","dimensions":{"Subscription ID":"chat-app","namespace":"tests"},"value":40}]""",
            json.RootElement.GetProperty("tokenMetrics").GetRawText());
    }

    [Fact]
    public async Task Reset_WrongMethod_IsNotAnAdminEndpoint()
    {
        using var factory = CreateFactory();

        using var response = await AdminAsync(factory.CreateClient(), "GET", "/_gateway/admin/reset", AdminKey);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AdminEndpoints_RightAndWrongKeys_AreNeverLogged()
    {
        const string WrongKey = "wrong-key-that-must-not-be-logged";
        using var factory = new GatewayFactory(
            _apim,
            "http://127.0.0.1:9",
            testServices: services => services.AddFakeLogging(),
            settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey, ["Logging:LogLevel:Default"] = "Trace" });
        var client = factory.CreateClient();

        using var refused = await AdminAsync(client, "POST", "/_gateway/admin/reset", WrongKey);
        using var reset = await AdminAsync(client, "POST", "/_gateway/admin/reset", AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var logs = factory.Services.GetFakeLogCollector().GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains("Admin reset of all", StringComparison.Ordinal));
        Assert.Contains(logs, r => r.Message.Contains("wrong admin key", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => new[] { AdminKey, WrongKey }.Any(key => r.Message.Contains(key, StringComparison.Ordinal)
            || (r.StructuredState ?? []).Any(p => p.Value?.Contains(key, StringComparison.Ordinal) == true)));
    }

    [Fact]
    public void AdminKey_TooShort_StopsTheGatewayAtStart()
    {
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9", settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = "short" });

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Gateway:AdminKey must be at least 16 characters long", error.Message, StringComparison.Ordinal);
    }

    private GatewayFactory CreateFactory() =>
        new(_apim, "http://127.0.0.1:9", settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey });

    private static async Task<HttpResponseMessage> AdminAsync(HttpClient client, string method, string path, string? adminKey)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (adminKey is not null)
        {
            request.Headers.Add("x-admin-key", adminKey);
        }

        return await SendAsync(client, request);
    }

    /// <summary>A call of an API operation through the test policy, with the subscription key and <paramref name="headers"/>.</summary>
    private static Task<HttpResponseMessage> CallApiAsync(HttpClient client, params (string Name, string Value)[] headers) =>
        client.PostChatAsync(headers: headers);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request).WaitAsync(TestTimeouts.Request);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Request);
        return response;
    }
}
