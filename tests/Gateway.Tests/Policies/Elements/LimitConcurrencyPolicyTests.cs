using System.Net;
using System.Text;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.RateLimiting;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Policies.Elements;

public sealed class LimitConcurrencyPolicyTests : IAsyncLifetime, IDisposable
{
    private const string TooManyRequests = """{ "statusCode": 429, "message": "Too many concurrent requests." }""";

    private const string GatedPolicy = """
        <policies>
          <inbound>
            <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
          </inbound>
          <backend>
            <limit-concurrency key="@(context.Request.Headers.GetValueOrDefault("x-team", "none"))" max-count="2">
              <forward-request buffer-response="false" />
            </limit-concurrency>
          </backend>
        </policies>
        """;

    private readonly TestApim _apim = new();
    private GatedBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await GatedBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose() => _apim.Dispose();

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public async Task LimitConcurrency_OneOverMaxCount_Gets429WhileTheOthersSucceed()
    {
        File.WriteAllText(_apim.PolicyPath, GatedPolicy);
        using var factory = new GatewayFactory(_apim, _backend.Url);
        using var client = factory.CreateClient();

        var first = SendAsync(client, "a");
        var second = SendAsync(client, "a");
        Assert.Equal("a", await _backend.NextArrivalAsync());
        Assert.Equal("a", await _backend.NextArrivalAsync());
        using var third = await SendAsync(client, "a");
        var otherKey = SendAsync(client, "b");
        Assert.Equal("b", await _backend.NextArrivalAsync());
        Assert.Equal(2, factory.Services.GetRequiredService<ConcurrencyLimits>().Inside("a"));
        _backend.Open();
        using var firstResponse = await first;
        using var secondResponse = await second;
        using var otherKeyResponse = await otherKey;
        using var afterwards = await SendAsync(client, "a");

        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Equal("Too Many Requests", third.ReasonPhrase);
        Assert.Equal(TooManyRequests, await third.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal("""{"ok":true}""", await firstResponse.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherKeyResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
        Assert.Equal(0, factory.Services.GetRequiredService<ConcurrencyLimits>().Inside("a"));
    }

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public async Task LimitConcurrency_OverMaxCount_GoesToOnError()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <limit-concurrency id="one-at-a-time" key="shared" max-count="1">
                  <forward-request />
                </limit-concurrency>
              </backend>
              <on-error>
                <return-response>
                  <set-status code="503" reason="Busy" />
                  <set-header name="x-error" exists-action="override">
                    <value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Section + "|" + context.LastError.PolicyId)</value>
                  </set-header>
                </return-response>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, _backend.Url);
        using var client = factory.CreateClient();

        var first = SendAsync(client, "a");
        await _backend.NextArrivalAsync();
        using var refused = await SendAsync(client, "b");
        _backend.Open();
        using var firstResponse = await first;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("limit-concurrency|ConcurrencyLimitExceeded|backend|one-at-a-time", refused.Headers.GetValues("x-error").Single());
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
    }

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public async Task LimitConcurrency_ChildFails_ReleasesTheSlot()
    {
        // x-team "oops" makes the expression throw inside the policy; a number goes through to return-response.
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <limit-concurrency key="shared" max-count="1">
                  <set-variable name="n" value="@(int.Parse(context.Request.Headers.GetValueOrDefault("x-team", "")))" />
                  <return-response>
                    <set-status code="200" reason="OK" />
                  </return-response>
                </limit-concurrency>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, _backend.Url);
        using var client = factory.CreateClient();

        using var failed = await SendAsync(client, "oops");
        using var failedAgain = await SendAsync(client, "oops");
        using var succeeded = await SendAsync(client, "1");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, failedAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, succeeded.StatusCode);
        Assert.Equal(0, factory.Services.GetRequiredService<ConcurrencyLimits>().Inside("shared"));
    }

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public async Task LimitConcurrency_BackendUnreachable_ReleasesTheSlot()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <limit-concurrency key="shared" max-count="1">
                  <forward-request timeout="5" />
                </limit-concurrency>
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        using var client = factory.CreateClient();

        using var failed = await SendAsync(client, "a");
        using var failedAgain = await SendAsync(client, "a");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, failedAgain.StatusCode);
        Assert.Equal(0, factory.Services.GetRequiredService<ConcurrencyLimits>().Inside("shared"));
    }

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public async Task LimitConcurrency_ReturnResponseInside_ReleasesTheSlot()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <limit-concurrency key="shared" max-count="1">
                  <return-response>
                    <set-status code="202" reason="Accepted" />
                  </return-response>
                </limit-concurrency>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(_apim, _backend.Url);
        using var client = factory.CreateClient();

        using var first = await SendAsync(client, "a");
        using var second = await SendAsync(client, "a");
        using var third = await SendAsync(client, "a");

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted], new[] { first, second, third }.Select(r => r.StatusCode));
        Assert.Equal(0, factory.Services.GetRequiredService<ConcurrencyLimits>().Inside("shared"));
    }

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public async Task LimitConcurrency_ClientLeaves_ReleasesTheSlot()
    {
        File.WriteAllText(_apim.PolicyPath, GatedPolicy.Replace("max-count=\"2\"", "max-count=\"1\"", StringComparison.Ordinal));
        using var factory = new GatewayFactory(_apim, _backend.Url);
        using var client = factory.CreateClient();
        var limits = factory.Services.GetRequiredService<ConcurrencyLimits>();
        using var leaving = new CancellationTokenSource();

        var abandoned = SendAsync(client, "a", leaving.Token);
        await _backend.NextArrivalAsync();
        Assert.Equal(1, limits.Inside("a"));
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await WaitUntilAsync(() => limits.Inside("a") == 0);
        var next = SendAsync(client, "a");
        Assert.Equal("a", await _backend.NextArrivalAsync());
        _backend.Open();
        using var nextResponse = await next;

        Assert.Equal(HttpStatusCode.OK, nextResponse.StatusCode);
    }

    [Theory]
    [Covers("limit-concurrency", "key", "max-count")]
    [InlineData("""<limit-concurrency key="k"><base /></limit-concurrency>""", "<limit-concurrency> requires attribute 'max-count'")]
    [InlineData("""<limit-concurrency key="k" max-count="0"><base /></limit-concurrency>""", "attribute 'max-count' of <limit-concurrency> must be a whole number from 1 to 2147483647, not '0'")]
    [InlineData("""<limit-concurrency key="k" max-count="@(3)"><base /></limit-concurrency>""", "attribute 'max-count' of <limit-concurrency> does not accept policy expressions")]
    [InlineData("""<limit-concurrency max-count="3"><base /></limit-concurrency>""", "<limit-concurrency> requires attribute 'key'")]
    [InlineData("""<limit-concurrency key="k" max-count="3" queue="10"><base /></limit-concurrency>""", "unknown attribute 'queue' on <limit-concurrency>")]
    [InlineData("""<limit-concurrency key="k" max-count="3"><forward-request /></limit-concurrency>""", "<forward-request> is not allowed in the inbound section")]
    public void LimitConcurrency_BadAttributeOrChild_FailsTheLoad(string element, string expected)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load($"""
            <policies>
              <inbound>
                {element}
              </inbound>
            </policies>
            """, "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(error.Problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    [Covers("limit-concurrency", "key", "max-count")]
    public void LimitConcurrency_InEverySection_Loads()
    {
        var document = PolicyLoader.Load("""
            <policies>
              <inbound><limit-concurrency key="k" max-count="1"><set-variable name="a" value="1" /></limit-concurrency></inbound>
              <backend><limit-concurrency key="k" max-count="1"><forward-request /></limit-concurrency></backend>
              <outbound><limit-concurrency key="k" max-count="1"><set-header name="x" exists-action="delete" /></limit-concurrency></outbound>
              <on-error><limit-concurrency key="k" max-count="1"><set-status code="500" reason="Error" /></limit-concurrency></on-error>
            </policies>
            """, "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>()));

        Assert.All(Enum.GetValues<PolicySection>(), section => Assert.Single(Assert.IsType<Gateway.Policies.Elements.LimitConcurrencyPolicy>(Assert.Single(document[section]!)).Nested));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Request);
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string team, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        request.Headers.Add("x-team", team);
        var response = await client.SendAsync(request, cancellationToken).WaitAsync(TestTimeouts.Request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response;
    }
}
