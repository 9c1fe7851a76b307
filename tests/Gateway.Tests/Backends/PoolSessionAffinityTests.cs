using System.Net;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Backends;

/// <summary>A pool's sessionAffinity through the whole gateway: the cookie it sets, the member a cookie keeps, the fallback.</summary>
public sealed class PoolSessionAffinityTests : IAsyncLifetime
{
    private const string Chat = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string Cookie = "SessionId";
    private const string Throttled = "\"count\": 1, \"interval\": \"PT10S\", \"statusCodeRanges\": [ { \"min\": 429, \"max\": 429 } ]";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));
    private MemberBackends _members = null!;

    public async Task InitializeAsync() => _members = await MemberBackends.StartAsync(response => response.Headers.Append("Set-Cookie", "backend-own=1; path=/"));

    public async Task DisposeAsync() => await _members.DisposeAsync();

    [Fact]
    public async Task Forward_FirstRequestWithoutCookie_SetsAnOpaqueSessionCookie_AndKeepsTheBackendsCookies()
    {
        using var apim = AffinityApim(Policy());
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = Client(factory);

        using var response = await SendAsync(client);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setCookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.Contains("backend-own=1; path=/", setCookies);
        var session = Assert.Single(setCookies, c => c.StartsWith(Cookie + "=", StringComparison.Ordinal));
        var value = ValueOf(session);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", value);
        Assert.DoesNotContain("p1", value, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("p2", value, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["path=/", "httponly"], session.Split("; ")[1..]);
    }

    [Fact]
    public async Task Forward_WithTheCookie_SendsOneHundredOfOneHundredRequestsToTheSameMember_InAnEqualWeightPool()
    {
        using var apim = AffinityApim(Policy());
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = Client(factory);
        using var first = await SendAsync(client);
        var cookie = SessionCookie(first)!;
        var pinned = Members().Single();

        var reissued = 0;
        for (var i = 0; i < 100; i++)
        {
            using var response = await SendAsync(client, cookie);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            reissued += SessionCookie(response) is null ? 0 : 1;
        }

        Assert.Equal(101, Members().Count(m => m == pinned));
        Assert.Equal(0, reissued);

        // Without the cookie, the same pool splits by round robin.
        using var a = await SendAsync(client);
        using var b = await SendAsync(client);
        Assert.Equal(["p1", "p2"], Members()[^2..].Order());
    }

    [Fact]
    public async Task Forward_PinnedMemberTripped_RetryFallsBackToAnotherMember_WithANewCookie_AndTheOldCookieReturnsWhenTheTripEnds()
    {
        using var apim = AffinityApim(Policy(retry: true));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = Client(factory);
        using var first = await SendAsync(client);
        var pinnedCookie = SessionCookie(first)!;
        var pinned = Members().Single();
        var other = pinned == "p1" ? "p2" : "p1";
        _members.Scripts[pinned] = new([(429, null)]);

        using var failedOver = await SendAsync(client, pinnedCookie);
        var newCookie = SessionCookie(failedOver);
        using var onTheNewCookie = await SendAsync(client, newCookie);
        using var oldCookieWhileTripped = await SendAsync(client, pinnedCookie);
        _time.Advance(TimeSpan.FromMinutes(1));
        using var oldCookieAfterTheTrip = await SendAsync(client, pinnedCookie);

        Assert.Equal(HttpStatusCode.OK, failedOver.StatusCode);
        Assert.NotNull(newCookie);
        Assert.NotEqual(pinnedCookie, newCookie);
        Assert.Equal([pinned, pinned, other, other, other, pinned], Members());
        Assert.Null(SessionCookie(onTheNewCookie));
        Assert.Equal(newCookie, SessionCookie(oldCookieWhileTripped));
        Assert.Null(SessionCookie(oldCookieAfterTheTrip));
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("garbage")]
    [InlineData("empty")]
    public async Task Forward_TamperedOrUnknownCookie_IsTreatedAsAbsent(string kind)
    {
        using var apim = AffinityApim(Policy());
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = Client(factory);
        using var first = await SendAsync(client);
        var value = ValueOf(SessionCookie(first)!);
        var forged = kind switch
        {
            "tampered" => (value[0] == 'A' ? 'B' : 'A') + value[1..],
            "garbage" => "http://127.0.0.1/p2",
            _ => string.Empty,
        };

        // Round robin sends a request without a valid cookie to the member the first request did not get.
        using var second = await SendAsync(client, $"{Cookie}={forged}");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.NotEqual(Members()[0], Members()[1]);
        var reissued = SessionCookie(second);
        Assert.NotNull(reissued);
        Assert.NotEqual($"{Cookie}={value}", reissued);
    }

    [Fact]
    [Covers("forward-request", "buffer-response")]
    public async Task Forward_StreamedResponse_CarriesTheSessionCookie()
    {
        using var apim = AffinityApim(Policy(forward: """<forward-request buffer-response="false" />"""));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        using var response = await SendAsync(Client(factory));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(SessionCookie(response));
        Assert.Contains("backend-own=1; path=/", response.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task Forward_OverHttps_MarksTheCookieSecureAndSameSiteNone()
    {
        using var apim = AffinityApim(Policy());
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = new Uri("https://localhost") });

        using var response = await SendAsync(client);

        var session = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(Cookie + "=", StringComparison.Ordinal));
        Assert.Equal(["path=/", "secure", "samesite=none", "httponly"], session.Split("; ")[1..]);
    }

    [Fact]
    public async Task Forward_PoolExhaustedAfterAFailover_SetsNoSessionCookie()
    {
        _members.Otherwise["p1"] = 429;
        _members.Otherwise["p2"] = 429;
        using var apim = AffinityApim(Policy(retry: true));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        using var response = await SendAsync(Client(factory));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Forward_PoolWithoutSessionAffinity_SetsNoSessionCookie()
    {
        using var apim = new TestApim(Policy());
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", _members.Url + "/p1/openai", Throttled),
            TestTopology.Single("p2", _members.Url + "/p2/openai", Throttled),
            TestTopology.Pool("pool", ("p1", 1, 1), ("p2", 1, 1)));
        using var factory = new GatewayFactory(apim, _members.Url, time: _time);

        using var response = await SendAsync(Client(factory));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["backend-own=1; path=/"], response.Headers.GetValues("Set-Cookie"));
    }

    private static HttpClient Client(GatewayFactory factory) => factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

    private static string? SessionCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Where(c => c.StartsWith(Cookie + "=", StringComparison.Ordinal)).Select(c => c.Split(';')[0]).SingleOrDefault()
            : null;

    private static string ValueOf(string cookie) => cookie.Split(';')[0][(Cookie.Length + 1)..];

    private TestApim AffinityApim(string policy)
    {
        var apim = new TestApim(policy);
        TestTopology.AddBackends(
            apim,
            TestTopology.Single("p1", _members.Url + "/p1/openai", Throttled),
            TestTopology.Single("p2", _members.Url + "/p2/openai", Throttled),
            TestTopology.PoolWithSessionAffinity("pool", Cookie, ("p1", 1, 1), ("p2", 1, 1)));
        return apim;
    }

    private static string Policy(bool retry = false, string forward = "<forward-request buffer-request-body=\"true\" />") => TestPolicy.With(
        """<set-backend-service backend-id="pool" />""",
        retry ? $"""<retry condition="@(context.Response.StatusCode == 429)" count="2" interval="0">{forward}</retry>""" : forward,
        outbound: string.Empty,
        onError: string.Empty);

    private List<string> Members() => _members.Members();

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string? cookie = null) =>
        client.PostChatAsync(Chat, ChatCalls.OneUserMessage, headers: cookie is null ? null : [("Cookie", cookie)]);
}
