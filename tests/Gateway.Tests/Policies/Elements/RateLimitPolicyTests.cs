using System.Net;
using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class RateLimitPolicyTests : IDisposable
{
    private readonly TestApim _apim = new();

    [Fact]
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

    public void Dispose() => _apim.Dispose();

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string team, string status = "200", string key = GatewayFactory.PrimaryKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", key);
        request.Headers.Add("x-team", team);
        request.Headers.Add("x-status", status);
        var response = await client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
