using System.Net;
using System.Text;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// The shipped apim/ on Azure OpenAI's v1 and Responses surfaces: routing by the body's <c>model</c>, one token counter
/// per subscription and deployment whatever the surface, and stored responses kept on the account that holds them.
/// Three backends stand for the three accounts of the gpt-4o pool (East US 2 first).
/// </summary>
public sealed class ShippedPolicySurfacesTests : IAsyncLifetime, IDisposable
{
    private const string NotFound = """{"error":{"message":"Previous response with id 'resp_1' not found.","type":"invalid_request_error","param":"previous_response_id","code":"previous_response_not_found"}}""";
    private readonly TestApim _apim = new();
    private RecordingBackend _eastUs2 = null!;
    private RecordingBackend _sweden = null!;
    private RecordingBackend _japan = null!;

    public async Task InitializeAsync()
    {
        _eastUs2 = await RecordingBackend.StartAsync();
        _sweden = await RecordingBackend.StartAsync();
        _japan = await RecordingBackend.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _eastUs2.DisposeAsync();
        await _sweden.DisposeAsync();
        await _japan.DisposeAsync();
    }

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task V1Chat_GoesToTheModelsPool_AtTheV1Path()
    {
        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Post, "/openai/v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(_eastUs2.Requests);
        Assert.Equal("/openai/v1/chat/completions", request.PathAndQuery);
        Assert.StartsWith("Bearer ", request.Headers["Authorization"], StringComparison.Ordinal);
        Assert.False(request.Headers.ContainsKey("api-key"));
    }

    [Fact]
    public async Task V1Embeddings_GoToTheirOwnPool()
    {
        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Post, "/openai/v1/embeddings", """{"model":"text-embedding-3-small","input":"hello"}""");

        // The embeddings pool has all three accounts at priority 1.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_eastUs2.Requests.Concat(_sweden.Requests).Concat(_japan.Requests));
    }

    [Fact]
    public async Task V1UnknownModel_GetsAzureOpenAIs404_WithoutACall()
    {
        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", """{"model":"gpt-9","input":"hi"}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("""{"error":{"code":"DeploymentNotFound",""", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_eastUs2.Requests.Concat(_sweden.Requests).Concat(_japan.Requests));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""["an","array"]""")]
    [InlineData("""{"input":"no model"}""")]
    [InlineData("""{"model":42,"input":"a number"}""")]
    public async Task V1BodyWithoutAModel_GetsTheAccountsOwnAnswer_NeverA500(string body)
    {
        _eastUs2.Answer = http => Json(http, 400, """{"error":{"code":"BadRequest","message":"from the account"}}""");
        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", body);

        // The policy cannot name a deployment, so the first account answers, as Azure OpenAI itself would.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("from the account", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Single(_eastUs2.Requests);
    }

    [Fact]
    public async Task V1Models_IsAnsweredByTheFirstAccount()
    {
        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Get, "/openai/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET", Assert.Single(_eastUs2.Requests).Method);
    }

    [Fact]
    public async Task TokenLimit_IsOneCounterPerDeployment_OnEverySurface()
    {
        foreach (var backend in new[] { _eastUs2, _sweden, _japan })
        {
            backend.Answer = http => Json(http, 200, """{"object":"response","usage":{"input_tokens":15,"output_tokens":10,"total_tokens":25}}""");
        }

        using var factory = Factory(new Dictionary<string, string> { ["Apim:NamedValues:subscription-tokens-per-minute"] = "30" });

        using var deploymentPath = await SendAsync(factory, HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", """{"messages":[{"role":"user","content":"hi"}]}""");
        using var v1 = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", """{"model":"gpt-4o","input":"one two three four five six seven eight nine ten"}""");
        using var responses = await SendAsync(factory, HttpMethod.Post, "/openai/responses?api-version=2025-04-01-preview", """{"model":"gpt-4o","input":"one two three four five six seven eight nine ten"}""");

        // 25 of the subscription's 30 gpt-4o tokens went on the deployment path; the same deployment on the v1 and
        // Responses surfaces is the same counter, so both (10 prompt tokens each) are refused.
        Assert.Equal(HttpStatusCode.OK, deploymentPath.StatusCode);
        Assert.Equal((HttpStatusCode)429, v1.StatusCode);
        Assert.Equal((HttpStatusCode)429, responses.StatusCode);
    }

    [Fact]
    public async Task PreviousResponse_IsLookedForAccountByAccount_AndRememberedWhereFound()
    {
        _eastUs2.Answer = http => Json(http, 400, NotFound);
        _sweden.Answer = http => Json(http, 200, """{"id":"resp_2","object":"response","status":"completed","output":[]}""");
        using var factory = Factory();
        const string Turn2 = """{"model":"gpt-4o","input":"and then?","previous_response_id":"resp_1"}""";

        using var first = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", Turn2);
        using var again = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", Turn2);
        using var turn3 = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", """{"model":"gpt-4o","input":"more","previous_response_id":"resp_2"}""");

        // East US 2 does not hold resp_1; Sweden Central does. The next call for resp_1, and the call continuing
        // Sweden's own non-streamed answer resp_2, go straight to Sweden Central.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, turn3.StatusCode);
        Assert.Single(_eastUs2.Requests);
        Assert.Equal(3, _sweden.Requests.Count);
        Assert.Empty(_japan.Requests);
        Assert.All(_sweden.Requests, r => Assert.StartsWith("""{"model":"gpt-4o""", r.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PreviousResponse_HeldNowhere_GetsTheLastAccountsNotFound()
    {
        foreach (var backend in new[] { _eastUs2, _sweden, _japan })
        {
            backend.Answer = http => Json(http, 400, NotFound);
        }

        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", """{"model":"gpt-4o","input":"hi","previous_response_id":"resp_1"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(NotFound, await response.Content.ReadAsStringAsync());
        Assert.Equal(3, _eastUs2.Requests.Count + _sweden.Requests.Count + _japan.Requests.Count);
    }

    [Fact]
    public async Task PreviousResponse_WhileTheFirstAccountIsThrottled_GetsItsThrottle_NeverAnotherAccountsNotFound()
    {
        EastUs2ThrottlesAndNoOtherAccountHoldsResp1();
        using var factory = Factory();

        using var response = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", """{"model":"gpt-4o","input":"hi","previous_response_id":"resp_1"}""");

        // Nobody else holds resp_1, so it may be East US 2's: its own 429 and Retry-After, for the client to come back.
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains("throttled in East US 2", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreviousResponse_WhileTheFirstAccountsBreakerIsOpen_Gets429_NeverAnotherAccountsNotFound()
    {
        EastUs2ThrottlesAndNoOtherAccountHoldsResp1();
        using var apim = new TestApim(withBreakers: true);
        using var factory = Factory(apim: apim);
        const string Turn = """{"model":"gpt-4o","input":"hi","previous_response_id":"resp_1"}""";

        using var throttled = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", Turn);
        using var whileTripped = await SendAsync(factory, HttpMethod.Post, "/openai/v1/responses", Turn);

        // East US 2's 429 opened its breaker: the next call finds it unavailable (the retry condition sees API
        // Management's 503), stops looking, and on-error answers 429 until it recovers. Nobody was asked again.
        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.Equal((HttpStatusCode)429, whileTripped.StatusCode);
        Assert.True(int.Parse(whileTripped.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 7);
        Assert.Single(_eastUs2.Requests);
        Assert.Single(_sweden.Requests);
        Assert.Single(_japan.Requests);
    }

    [Fact]
    public async Task StoredResponse_GetAndDelete_GoToTheAccountThatHoldsIt()
    {
        _eastUs2.Answer = http => Json(http, 404, """{"error":{"message":"Response with id 'resp_9' not found.","type":"invalid_request_error","param":null,"code":null}}""");
        _sweden.Answer = http => Json(http, 404, """{"error":{"message":"Response with id 'resp_9' not found.","type":"invalid_request_error","param":null,"code":null}}""");
        _japan.Answer = http => http.Request.Method == "DELETE"
            ? Json(http, 200, """{"id":"resp_9","object":"response.deleted","deleted":true}""")
            : Json(http, 200, """{"id":"resp_9","object":"response","status":"completed","output":[]}""");
        using var factory = Factory();

        using var get = await SendAsync(factory, HttpMethod.Get, "/openai/v1/responses/resp_9");
        using var items = await SendAsync(factory, HttpMethod.Get, "/openai/responses/resp_9/input_items?api-version=2025-04-01-preview");
        using var delete = await SendAsync(factory, HttpMethod.Delete, "/openai/v1/responses/resp_9");
        using var afterDelete = await SendAsync(factory, HttpMethod.Get, "/openai/v1/responses/resp_9");

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, items.StatusCode);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal(
            ["GET /openai/v1/responses/resp_9", "GET /openai/responses/resp_9/input_items?api-version=2025-04-01-preview", "DELETE /openai/v1/responses/resp_9", "GET /openai/v1/responses/resp_9"],
            _japan.Requests.Select(r => r.Method + " " + r.PathAndQuery));

        // Found once, the account is remembered until the response is deleted: then the accounts are asked again.
        Assert.Equal(2, _eastUs2.Requests.Count);
        Assert.Equal(2, _sweden.Requests.Count);
        Assert.Equal(HttpStatusCode.OK, afterDelete.StatusCode);
    }

    private void EastUs2ThrottlesAndNoOtherAccountHoldsResp1()
    {
        _eastUs2.Answer = async http =>
        {
            http.Response.Headers["Retry-After"] = "7";
            await Json(http, 429, """{"error":{"code":"429","message":"throttled in East US 2"}}""");
        };
        _sweden.Answer = http => Json(http, 400, NotFound);
        _japan.Answer = http => Json(http, 400, NotFound);
    }

    private static Task Json(HttpContext http, int status, string json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(json);
    }

    private GatewayFactory Factory(Dictionary<string, string>? settings = null, TestApim? apim = null)
    {
        settings ??= [];
        foreach (var (account, backend) in new[] { ("eastus2", _eastUs2), ("swedencentral", _sweden), ("japaneast", _japan) })
        {
            foreach (var deployment in new[] { "gpt-4o", "text-embedding-3-small" })
            {
                settings[$"Apim:Backends:aoai-{account}-{deployment}:Url"] = backend.Url + "/openai";
            }
        }

        return new GatewayFactory(apim ?? _apim, _eastUs2.Url, settings: settings);
    }

    private static async Task<HttpResponseMessage> SendAsync(GatewayFactory factory, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
