using System.Net;
using System.Text.Json;
using Gateway.Admin.Page;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin;

public sealed class GatewayPageTests : IDisposable
{
    private const string AdminKey = "admin-key-for-the-page-tests-0123456789";
    private const string Page = "/_gateway/ui";

    private readonly TestApim _apim = new("""
        <policies>
          <inbound><return-response><set-status code="204" /></return-response></inbound>
        </policies>
        """);

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task Login_WrongKey_Returns401WithTheFormAgain_NoCookie_AndTheKeyNeitherEchoedNorLogged()
    {
        const string WrongKey = "wrong-key-that-must-not-leak-0123456789";
        using var factory = new GatewayFactory(
            _apim,
            "http://127.0.0.1:9",
            testServices: services => services.AddFakeLogging(),
            settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey, ["Logging:LogLevel:Default"] = "Trace" });
        var client = Browser(factory);

        using var refused = await LogInAsync(client, WrongKey);
        using var state = await SendAsync(client, HttpMethod.Get, Page + "/state");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request);
        Assert.Contains(GatewayPageApi.WrongKeyMessage.Replace("'", "&#39;", StringComparison.Ordinal), body, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, body, StringComparison.Ordinal);
        Assert.False(refused.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Unauthorized, state.StatusCode);
        var logs = factory.Services.GetFakeLogCollector().GetSnapshot();
        Assert.Contains(logs, r => r.Message.Contains("refused a sign-in with a wrong admin key", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, r => new[] { AdminKey, WrongKey }.Any(key => r.Message.Contains(key, StringComparison.Ordinal)
            || (r.StructuredState ?? []).Any(p => p.Value?.Contains(key, StringComparison.Ordinal) == true)));
    }

    [Fact]
    public async Task PageAndState_NoCookie_RedirectToTheFormAnd401()
    {
        using var factory = CreateFactory();
        var client = Browser(factory);

        using var page = await SendAsync(client, HttpMethod.Get, Page + "/");
        using var state = await SendAsync(client, HttpMethod.Get, Page + "/state");
        using var form = await SendAsync(client, HttpMethod.Get, Page + "/login");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal(Page + "/login", page.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, state.StatusCode);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Contains("""<form method="post" action="/_gateway/ui/login" """, await form.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_RightKey_SetsAnHttpOnlyStrictCookieThatGrantsThePageAndState_UntilLogout()
    {
        using var factory = CreateFactory();
        var client = Browser(factory);

        using var login = await LogInAsync(client, AdminKey);
        using var page = await SendAsync(client, HttpMethod.Get, Page + "/");
        using var state = await SendAsync(client, HttpMethod.Get, Page + "/state");
        using var logout = await SendAsync(client, HttpMethod.Post, Page + "/logout");
        using var after = await SendAsync(client, HttpMethod.Get, Page + "/state");

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal(Page + "/", login.Headers.Location?.OriginalString);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(GatewayPageApi.CookieName + "=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/_gateway/ui", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(AdminKey, cookie, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("/_gateway/ui/assets/page.js", await page.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, state.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Session_AfterItsLifetime_NoLongerGrantsState()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        using var factory = CreateFactory(time: time);
        var client = Browser(factory);
        using var login = await LogInAsync(client, AdminKey);

        time.Advance(PageSessions.Lifetime - TimeSpan.FromSeconds(1));
        using var before = await SendAsync(client, HttpMethod.Get, Page + "/state");
        time.Advance(TimeSpan.FromSeconds(1));
        using var after = await SendAsync(client, HttpMethod.Get, Page + "/state");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (before.StatusCode, after.StatusCode));
    }

    [Fact]
    public async Task Login_TooManyWrongKeys_RefusesEvenTheRightKeyWith429_UntilTheMinuteEnds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        using var factory = CreateFactory(time: time);
        var client = Browser(factory);
        for (var i = 0; i < LoginThrottle.MaxFailures; i++)
        {
            using var wrong = await LogInAsync(client, "wrong-key-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var throttled = await LogInAsync(client, AdminKey);
        time.Advance(LoginThrottle.Window);
        using var allowed = await LogInAsync(client, AdminKey);

        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.Equal("60", throttled.Headers.GetValues("Retry-After").Single());
        Assert.False(throttled.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Redirect, allowed.StatusCode);
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "https://elsewhere.example")]
    public async Task Login_PostedFromAnotherSite_Gets403_AndSpendsNothingOfTheLimit(string header, string value)
    {
        using var factory = CreateFactory();
        var client = Browser(factory);
        for (var i = 0; i < LoginThrottle.MaxFailures + 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Page + "/login") { Content = new FormUrlEncodedContent([new(GatewayPageApi.KeyField, "wrong-key-" + i)]) };
            request.Headers.Add(header, value);
            using var refused = await SendAsync(client, request);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using var sameOrigin = new HttpRequestMessage(HttpMethod.Post, Page + "/login") { Content = new FormUrlEncodedContent([new(GatewayPageApi.KeyField, AdminKey)]) };
        sameOrigin.Headers.Add("Sec-Fetch-Site", "same-origin");
        using var signedIn = await SendAsync(client, sameOrigin);

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith(GatewayPageApi.CookieName + "=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/login", false)]
    [InlineData("/", true)]
    [InlineData("/state", true)]
    [InlineData("/assets/page.js", false)]
    public async Task Answers_AllowOnlyTheGatewayItself(string path, bool signedIn)
    {
        using var factory = CreateFactory();
        var client = Browser(factory);
        if (signedIn)
        {
            using var login = await LogInAsync(client, AdminKey);
        }

        using var response = await SendAsync(client, HttpMethod.Get, Page + path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(GatewayPageApi.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("login.html")]
    [InlineData("index.html")]
    [InlineData("page.css")]
    [InlineData("page.js")]
    public void Assets_LoadNothingFromElsewhere(string name)
    {
        var text = File.ReadAllText(Path.Combine(TestApim.RepoRoot, "Gateway", "Admin", "Page", "Assets", name));

        Assert.DoesNotContain("http://", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("//cdn", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_After429WithRetryAfter_ShowsTheTrippedMemberWhyAndUntil_TheTraffic_ThePoolsChoice_AndTokenUseAgainstTheLimit()
    {
        await using var backend = await RecordingBackend.StartAsync();
        backend.Answer = async context =>
        {
            if (context.Request.Path.StartsWithSegments("/first", StringComparison.Ordinal))
            {
                context.Response.StatusCode = (int)HttpStatusCode.TooManyRequests;
                context.Response.Headers.RetryAfter = "30";
                return;
            }

            await ModelAnswers.Completion(9, 11)(context);
        };
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="page-pool" />
                <azure-openai-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="5000" estimate-prompt-tokens="false" />
              </inbound>
              <backend><forward-request /></backend>
            </policies>
            """);
        const string Condition = "\"count\": 1, \"interval\": \"PT1M\", \"statusCodeRanges\": [ { \"min\": 429, \"max\": 429 } ]";
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("first", backend.Url + "/first", Condition, acceptRetryAfter: true),
            TestTopology.Single("second", backend.Url + "/second", Condition, acceptRetryAfter: true),
            TestTopology.Pool("page-pool", ("first", 1, 1), ("second", 2, 1)));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        using var factory = CreateFactory(apim, backend.Url, time);
        var client = Browser(factory);
        using var login = await LogInAsync(client, AdminKey);

        using var throttled = await client.PostChatAsync();
        time.Advance(TimeSpan.FromSeconds(5));
        using var answered = await client.PostChatAsync();
        using var state = await SendAsync(client, HttpMethod.Get, Page + "/state");

        Assert.Equal((HttpStatusCode.TooManyRequests, HttpStatusCode.OK), (throttled.StatusCode, answered.StatusCode));
        var body = await state.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(
            """{"id":"first","region":"eastus2","breaker":"open","trip":{"at":"2026-12-05T10:00:00+00:00","until":"2026-12-05T10:00:30+00:00","statusCode":429,"errorReason":null,"retryAfterHonoured":true,"rule":"first-breaker"},"traffic":{"backendId":"first","requests":1,"statuses":{"429":1}}}""",
            Backend(root, "first").GetRawText());
        Assert.Equal(
            """{"id":"second","region":"eastus2","breaker":"closed","trip":null,"traffic":{"backendId":"second","requests":1,"statuses":{"2xx":1}}}""",
            Backend(root, "second").GetRawText());
        Assert.Equal(
            """{"id":"page-pool","members":[{"backendId":"first","priority":1,"weight":1,"available":false,"selectable":false},{"backendId":"second","priority":2,"weight":1,"available":true,"selectable":true}],"next":"second","exhausted":false}""",
            root.GetProperty("pools").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "page-pool").GetRawText());
        Assert.Equal(
            """[{"limit":"tokens-per-minute","key":"chat-app","used":20,"max":5000}]""",
            root.GetProperty("tokenCounters").GetRawText());
        Assert.DoesNotContain(backend.Url, body, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayFactory.PrimaryKey, body, StringComparison.Ordinal);

        // Once the Retry-After has passed, the member is back and the pool picks from it again.
        time.Advance(TimeSpan.FromSeconds(25));
        using var later = await SendAsync(client, HttpMethod.Get, Page + "/state");
        using var laterJson = JsonDocument.Parse(await later.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        Assert.Equal("closed", Backend(laterJson.RootElement, "first").GetProperty("breaker").GetString());
    }

    [Fact]
    public async Task State_ARetryThatFailsOver_CountsEachMembersAnswer()
    {
        await using var backend = await RecordingBackend.StartAsync();
        backend.Answer = async context =>
        {
            if (context.Request.Path.StartsWithSegments("/first", StringComparison.Ordinal))
            {
                context.Response.StatusCode = (int)HttpStatusCode.TooManyRequests;
                context.Response.Headers.RetryAfter = "30";
                return;
            }

            await ModelAnswers.Completion(9, 11)(context);
        };
        using var apim = new TestApim("""
            <policies>
              <inbound><set-backend-service backend-id="page-pool" /></inbound>
              <backend>
                <retry condition="@(context.Response.StatusCode == 429)" count="2" interval="0" first-fast-retry="true">
                  <forward-request buffer-request-body="true" buffer-response="false" />
                </retry>
              </backend>
            </policies>
            """);
        const string Condition = "\"count\": 1, \"interval\": \"PT1M\", \"statusCodeRanges\": [ { \"min\": 429, \"max\": 429 } ]";
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("first", backend.Url + "/first", Condition, acceptRetryAfter: true),
            TestTopology.Single("second", backend.Url + "/second", Condition, acceptRetryAfter: true),
            TestTopology.Pool("page-pool", ("first", 1, 1), ("second", 2, 1)));
        using var factory = CreateFactory(apim, backend.Url);
        var client = Browser(factory);
        using var login = await LogInAsync(client, AdminKey);

        using var answered = await client.PostChatAsync();
        using var state = await SendAsync(client, HttpMethod.Get, Page + "/state");

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        using var json = JsonDocument.Parse(await state.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        Assert.Equal("""{"backendId":"first","requests":1,"statuses":{"429":1}}""", Backend(json.RootElement, "first").GetProperty("traffic").GetRawText());
        Assert.Equal("""{"backendId":"second","requests":1,"statuses":{"2xx":1}}""", Backend(json.RootElement, "second").GetProperty("traffic").GetRawText());
    }

    [Fact]
    public async Task State_CounterKeyHoldingASubscriptionKey_IsHidden()
    {
        await using var backend = await RecordingBackend.StartAsync();
        backend.Answer = ModelAnswers.Completion(9, 11);
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="plain" />
                <azure-openai-token-limit counter-key="@("by-key/" + context.Subscription.Key)" tokens-per-minute="5000" estimate-prompt-tokens="false" />
              </inbound>
              <backend><forward-request /></backend>
            </policies>
            """);
        TestTopology.AddBackends(apim, TestTopology.Single("plain", backend.Url, "\"count\": 1, \"interval\": \"PT1M\", \"statusCodeRanges\": [ { \"min\": 500, \"max\": 599 } ]"));
        using var factory = CreateFactory(apim, backend.Url);
        var client = Browser(factory);
        using var login = await LogInAsync(client, AdminKey);

        using var answered = await client.PostChatAsync();
        using var state = await SendAsync(client, HttpMethod.Get, Page + "/state");

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        var body = await state.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request);
        Assert.DoesNotContain(GatewayFactory.PrimaryKey, body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(PageState.HiddenKey, json.RootElement.GetProperty("tokenCounters")[0].GetProperty("key").GetString());
    }

    private static JsonElement Backend(JsonElement state, string id) =>
        state.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("id").GetString() == id);

    private GatewayFactory CreateFactory(TestApim? apim = null, string backendUrl = "http://127.0.0.1:9", TimeProvider? time = null) =>
        new(apim ?? _apim, backendUrl, time: time, settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey });

    /// <summary>A client that keeps cookies and shows redirects instead of following them, as the tests look at each step.</summary>
    private static HttpClient Browser(GatewayFactory factory) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static async Task<HttpResponseMessage> LogInAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Page + "/login") { Content = new FormUrlEncodedContent([new(GatewayPageApi.KeyField, key)]) };
        return await SendAsync(client, request);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        return await SendAsync(client, request);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request).WaitAsync(TestTimeouts.Request);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Request);
        return response;
    }
}
