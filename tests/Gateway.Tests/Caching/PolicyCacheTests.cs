using System.Net;
using System.Text;
using Gateway.Caching;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace Gateway.Tests.Caching;

public class PolicyCacheTests
{
    [Fact]
    public void TryGet_WithinDuration_ReturnsTheSameObjectThenExpires()
    {
        var time = new FakeTimeProvider();
        var cache = new PolicyCache(time);
        var backends = new JArray("a", "b");
        cache.Store("backends", backends, TimeSpan.FromSeconds(10));

        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.True(cache.TryGet("backends", out var found));
        Assert.Same(backends, found);

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
            using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
            if (reset)
            {
                request.Headers.Add("x-reset", "1");
            }

            using var response = await client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.Add(response.Headers.GetValues("x-n").Single());
        }

        // 0, 1, 2 counted; the reset sees 3 and removes it; the next starts again from the default.
        Assert.Equal(["0", "1", "2", "3", "0"], seen);
    }

    [Fact]
    public void Load_ExternalCache_IsRefused()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            """<policies><inbound><cache-remove-value key="k" caching-type="external" /></inbound></policies>""", "policy.xml", "api", new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains("caching-type=\"external\" is not supported", Assert.Single(error.Problems), StringComparison.Ordinal);
    }
}
