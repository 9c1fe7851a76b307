using System.Net;
using Gateway.Caching;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace Gateway.Tests.Caching;

public class PolicyCacheTests
{
    [Fact]
    public void TryGet_WithinDuration_ReturnsAnEqualCopyThenExpires()
    {
        var time = new FakeTimeProvider();
        var cache = new PolicyCache(time);
        var backends = new JArray("a", "b");
        cache.Store("backends", backends, TimeSpan.FromSeconds(10));

        // Changes after the store, and to what a lookup returned, stay out of the cache (API Management caches copies).
        backends.Add("changed after store");
        Assert.True(cache.TryGet("backends", out var first));
        ((JArray)first!).Add("changed after lookup");

        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.True(cache.TryGet("backends", out var found));
        Assert.Equal("""["a","b"]""", ((JArray)found!).ToString(Newtonsoft.Json.Formatting.None));

        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(cache.TryGet("backends", out _));
    }

    [Fact]
    [Covers("cache-lookup-value", "key", "variable-name", "default-value")]
    [Covers("cache-store-value", "key", "value")]
    [Covers("cache-remove-value", "key")]
    public async Task Policy_LookupStoreRemove_CountsAcrossRequests()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <cache-lookup-value key="counter" variable-name="n" default-value="@(0)" caching-type="internal" />
                <choose>
                  <when condition="@(context.Request.Headers.ContainsKey("x-reset"))">
                    <cache-remove-value key="counter" />
                  </when>
                  <otherwise>
                    <cache-store-value key="counter" value="@((int)context.Variables["n"] + 1)" duration="60" />
                  </otherwise>
                </choose>
                <return-response>
                  <set-header name="x-n" exists-action="override"><value>@(context.Variables["n"].ToString())</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        var seen = new List<string>();
        foreach (var reset in new[] { false, false, false, true, false })
        {
            using var response = await client.PostChatAsync(headers: reset ? [("x-reset", "1")] : null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.Add(response.Headers.GetValues("x-n").Single());
        }

        // 0, 1, 2 counted; the reset sees 3 and removes it; the next starts again from the default.
        Assert.Equal(["0", "1", "2", "3", "0"], seen);
    }

    [Fact]
    [Covers("cache-store-value", "duration")]
    public async Task Policy_StoredValue_ExpiresAfterItsDurationOnTheClock()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <choose>
                  <when condition="@(context.Request.Headers.ContainsKey("x-store"))">
                    <cache-store-value key="greeting" value="@(context.Request.Headers.GetValueOrDefault("x-store", ""))" duration="10" />
                  </when>
                </choose>
                <cache-lookup-value key="greeting" variable-name="found" default-value="expired" />
                <return-response>
                  <set-header name="x-found" exists-action="override"><value>@((string)context.Variables["found"])</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        var time = new FakeTimeProvider();
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9", time: time);
        var client = factory.CreateClient();

        var stored = await FoundAsync(client, ("x-store", "hello"));
        time.Advance(TimeSpan.FromSeconds(9.9));
        var beforeExpiry = await FoundAsync(client);
        time.Advance(TimeSpan.FromSeconds(0.1));
        var afterExpiry = await FoundAsync(client);

        Assert.Equal(["hello", "hello", "expired"], new[] { stored, beforeExpiry, afterExpiry });
    }

    [Fact]
    public async Task Policy_InternalAndPreferExternal_ShareTheGatewaysInternalCache()
    {
        // With no external cache configured, prefer-external uses the internal cache, the one internal names.
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <choose>
                  <when condition="@(context.Request.Headers.ContainsKey("x-store"))">
                    <cache-store-value key="k" value="stored" duration="60" caching-type="prefer-external" />
                  </when>
                  <when condition="@(context.Request.Headers.ContainsKey("x-remove"))">
                    <cache-remove-value key="k" caching-type="internal" />
                  </when>
                </choose>
                <cache-lookup-value key="k" variable-name="found" default-value="none" caching-type="internal" />
                <return-response>
                  <set-header name="x-found" exists-action="override"><value>@((string)context.Variables["found"])</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        var stored = await FoundAsync(client, ("x-store", "1"));
        var removed = await FoundAsync(client, ("x-remove", "1"));

        Assert.Equal("stored", stored);
        Assert.Equal("none", removed);
    }

    [Theory]
    [InlineData("""<cache-remove-value key="k" caching-type="external" />""")]
    [InlineData("""<cache-lookup-value key="k" variable-name="v" caching-type="external" />""")]
    [InlineData("""<cache-store-value key="k" value="v" duration="5" caching-type="external" />""")]
    [Covers("cache-store-value", "caching-type")]
    [Covers("cache-lookup-value", "caching-type")]
    [Covers("cache-remove-value", "caching-type")]
    public void Load_ExternalCache_IsRefused(string element)
    {
        // The gateway has API Management's internal cache only: external must not silently fall back to it.
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{element}</inbound></policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains("caching-type=\"external\" is not supported", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private static async Task<string> FoundAsync(HttpClient client, params (string Name, string Value)[] headers)
    {
        using var response = await client.PostChatAsync(headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-found").Single();
    }
}
