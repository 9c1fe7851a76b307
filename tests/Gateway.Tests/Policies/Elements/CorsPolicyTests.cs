using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class CorsPolicyTests : IDisposable
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string App = "https://app.contoso.com";
    private readonly TestApim _apim = new();

    public void Dispose() => _apim.Dispose();

    [Theory]
    [InlineData(null, "https://copilotstudio.microsoft.com")]
    [InlineData("api-key", null)]
    [Covers("cors")]
    public async Task Preflight_CorsWithoutAllowedHeaders_AllowsARequestThatAsksForNone(string? headers, string? allowOrigin)
    {
        // As Azure-Samples/AI-Gateway labs/mcp-a2a-agents deploys it: allowed-origins alone (docs/fidelity.md, evidence rule).
        WriteApiPolicy("""
            <cors allow-credentials="false">
              <allowed-origins><origin>https://copilotstudio.microsoft.com</origin></allowed-origins>
            </cors>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await PreflightAsync(factory, "https://copilotstudio.microsoft.com", "POST", headers);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(allowOrigin, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    [Covers("cors")]
    public async Task Preflight_AllowedOriginMethodAndHeaders_IsAnsweredWithoutAKeyOrAnyOtherPolicy()
    {
        // The API requires a key and its inbound would answer 418: a preflight carries no key and runs only the cors policy.
        WriteApiPolicy("""
            <cors>
              <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
              <allowed-methods preflight-result-max-age="300"><method>POST</method></allowed-methods>
              <allowed-headers><header>api-key</header><header>Content-Type</header></allowed-headers>
              <expose-headers><header>x-ms-region</header></expose-headers>
            </cors>
            <return-response><set-status code="418" reason="Teapot" /></return-response>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await PreflightAsync(factory, App, "POST", "content-type,api-key");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(App, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("POST", Header(response, "Access-Control-Allow-Methods"));
        Assert.Equal("content-type, api-key", Header(response, "Access-Control-Allow-Headers"));
        Assert.Equal("300", Header(response, "Access-Control-Max-Age"));
        Assert.Equal("Origin", Header(response, "Vary"));
        Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
        Assert.Null(Header(response, "Access-Control-Expose-Headers"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("https://evil.example", "POST", "api-key")]
    [InlineData(App, "PUT", "api-key")]
    [InlineData(App, "POST", "x-custom")]
    [Covers("cors", "terminate-unmatched-request")]
    public async Task Preflight_Unmatched_EndsWithAnEmptyOkByDefault(string origin, string method, string headers)
    {
        WriteApiPolicy("""
            <cors>
              <allowed-origins><origin>https://app.contoso.com:443/</origin></allowed-origins>
              <allowed-methods><method>POST</method></allowed-methods>
              <allowed-headers><header>api-key</header></allowed-headers>
            </cors>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await PreflightAsync(factory, origin, method, headers);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("false", "https://portal.contoso.com")]
    [InlineData("true", null)]
    [Covers("cors", "terminate-unmatched-request")]
    public async Task Preflight_UnmatchedWithoutTermination_HandsOverToTheGlobalCors(string terminate, string? allowed)
    {
        File.WriteAllText(Path.Combine(_apim.Path, PolicyLoader.GlobalPolicyFileName), """
            <policies>
              <inbound>
                <cors allow-credentials="@(true)">
                  <allowed-origins><origin>https://portal.contoso.com</origin></allowed-origins>
                  <allowed-methods><method>*</method></allowed-methods>
                  <allowed-headers><header>*</header></allowed-headers>
                </cors>
              </inbound>
              <backend><forward-request /></backend>
            </policies>
            """);
        WriteApiPolicy($"""
            <cors terminate-unmatched-request="{terminate}">
              <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
              <allowed-headers><header>api-key</header></allowed-headers>
            </cors>
            <base />
            """, withBase: false);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await PreflightAsync(factory, "https://portal.contoso.com", "DELETE", "x-anything");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(allowed, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(allowed is null ? null : "true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Equal(allowed is null ? null : "DELETE", Header(response, "Access-Control-Allow-Methods"));
    }

    [Fact]
    [Covers("cors")]
    public async Task Preflight_WithAValidKeyInTheQuery_EvaluatesTheProductsCors()
    {
        // The reference: product-scope cors works only when the key is in the query, where a browser's preflight has it.
        var product = Path.Combine(_apim.Path, "products", "starter");
        Directory.CreateDirectory(product);
        File.WriteAllText(Path.Combine(product, "product.json"), """{ "id": "starter", "apis": [ "azure-openai" ], "policy": "policy.xml" }""");
        File.WriteAllText(Path.Combine(product, "policy.xml"), """
            <policies>
              <inbound>
                <cors>
                  <allowed-origins><origin>*</origin></allowed-origins>
                  <allowed-headers><header>content-type</header></allowed-headers>
                </cors>
                <base />
              </inbound>
            </policies>
            """);
        File.WriteAllText(Path.Combine(_apim.Path, "subscriptions.json"), """{ "subscriptions": [ { "name": "chat-app", "scope": "/products/starter", "state": "active" } ] }""");
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var withKey = await PreflightAsync(factory, App, "POST", "content-type", ChatPath + "&api-key=" + GatewayFactory.PrimaryKey);
        using var withoutKey = await PreflightAsync(factory, App, "POST", "content-type");

        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal("*", Header(withKey, "Access-Control-Allow-Origin"));
        Assert.Null(Header(withKey, "Vary"));
        // Without a key the product is unknown: no cors applies, so the OPTIONS request matches no operation.
        Assert.Equal(HttpStatusCode.NotFound, withoutKey.StatusCode);
    }

    [Fact]
    [Covers("cors")]
    public async Task Preflight_ToAnOptionsOperation_RunsThatOperationInstead()
    {
        var definitionPath = _apim.DefinitionPath;
        var definition = JsonNode.Parse(File.ReadAllText(definitionPath))!;
        definition["paths"]!["/deployments/{deployment-id}/chat/completions"]!["options"] = new JsonObject
        {
            ["operationId"] = "ChatCompletions_Options",
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
        };
        File.WriteAllText(definitionPath, definition.ToJsonString());
        WriteApiPolicy("""
            <cors>
              <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
              <allowed-headers><header>api-key</header></allowed-headers>
            </cors>
            <return-response>
              <set-header name="x-operation" exists-action="override"><value>@(context.Operation.Id)</value></set-header>
            </return-response>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var anonymous = await PreflightAsync(factory, App, "POST", "api-key");
        using var keyed = await PreflightAsync(factory, App, "POST", "api-key", key: GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("ChatCompletions_Options", Header(keyed, "x-operation"));
        Assert.Null(Header(keyed, "Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task Preflight_WithoutACorsPolicy_IsNotFound()
    {
        WriteApiPolicy("<return-response />");
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await PreflightAsync(factory, App, "POST", "api-key");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("true", App)]
    [InlineData("false", "*")]
    [Covers("cors", "allow-credentials")]
    public async Task Cors_AllowedOrigin_AddsTheHeadersToTheResponse(string credentials, string allowOrigin)
    {
        WriteApiPolicy($"""
            <cors allow-credentials="{credentials}">
              <allowed-origins><origin>*</origin></allowed-origins>
              <allowed-headers><header>*</header></allowed-headers>
              <expose-headers><header>x-ms-region</header><header>apim-request-id</header></expose-headers>
            </cors>
            <return-response>
              <set-status code="201" reason="Created" />
              <set-header name="Access-Control-Allow-Origin" exists-action="override"><value>https://backend.example</value></set-header>
            </return-response>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await SendAsync(factory, HttpMethod.Post, App);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(allowOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(credentials == "true" ? "true" : null, Header(response, "Access-Control-Allow-Credentials"));
        Assert.Equal("x-ms-region, apim-request-id", Header(response, "Access-Control-Expose-Headers"));
    }

    [Fact]
    [Covers("cors")]
    public async Task Cors_OnAnErrorResponse_StillAddsTheHeaders()
    {
        WriteApiPolicy("""
            <cors>
              <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
              <allowed-headers><header>api-key</header></allowed-headers>
            </cors>
            <set-variable name="n" value="@((int)context.Variables["missing"])" />
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await SendAsync(factory, HttpMethod.Post, App);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(App, Header(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("GET", null, HttpStatusCode.OK, null)]
    [InlineData("GET", "false", (HttpStatusCode)418, null)]
    [InlineData("DELETE", null, (HttpStatusCode)418, null)]
    [Covers("cors", "terminate-unmatched-request")]
    public async Task Cors_UnmatchedOrigin_EndsASimpleRequestOnlyWhenTerminating(string method, string? terminate, HttpStatusCode status, string? allowOrigin)
    {
        var attribute = terminate is null ? string.Empty : $" terminate-unmatched-request=\"{terminate}\"";
        WriteApiPolicy($"""
            <cors{attribute}>
              <allowed-origins><origin>https://app.contoso.com</origin></allowed-origins>
              <allowed-methods><method>GET</method><method>DELETE</method></allowed-methods>
              <allowed-headers><header>api-key</header></allowed-headers>
            </cors>
            <return-response><set-status code="418" reason="Teapot" /></return-response>
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await SendAsync(factory, new HttpMethod(method), "https://evil.example", "/openai/responses/resp_1?api-version=2025-04-01-preview");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(allowOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    [Covers("cors")]
    public async Task Cors_WithoutAnOriginHeader_AddsNothing()
    {
        WriteApiPolicy("""
            <cors>
              <allowed-origins><origin>*</origin></allowed-origins>
              <allowed-headers><header>*</header></allowed-headers>
            </cors>
            <return-response />
            """);
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await SendAsync(factory, HttpMethod.Post, origin: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("<cors><allowed-headers><header>a</header></allowed-headers></cors>", "<cors> needs <allowed-origins>")]
    [InlineData("<cors><allowed-origins /><allowed-headers><header>a</header></allowed-headers></cors>", "<allowed-origins> needs at least one <origin>")]
    [InlineData("<cors><allowed-origins><origin>https://a.example/app</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors>", "<origin> must be * or a valid URL consisting of scheme, host, and port only, not 'https://a.example/app'")]
    [InlineData("<cors><allowed-origins><origin>https://*.example.com</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors>", "<origin> must be * or a valid URL")]
    [InlineData("<cors><allowed-origins><origin>*</origin><origin>https://a.example</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors>", "either a single <origin>*</origin> or origin URLs, not both")]
    [InlineData("<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-methods /><allowed-headers><header>a</header></allowed-headers></cors>", "<allowed-methods> needs at least one <method>")]
    [InlineData("<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-methods preflight-result-max-age=\"soon\"><method>GET</method></allowed-methods><allowed-headers><header>a</header></allowed-headers></cors>", "preflight-result-max-age' of <allowed-methods> must be a whole number of seconds")]
    [InlineData("<cors allow-credentials=\"yes\"><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors>", "attribute 'allow-credentials' of <cors> must be true or false, not 'yes'")]
    [InlineData("<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers><allowed-headers><header>b</header></allowed-headers></cors>", "<cors> has more than one <allowed-headers>")]
    [InlineData("<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers><vary /></cors>", "<vary> is not allowed inside <cors>")]
    [InlineData("<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors><cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors>", "<cors> may appear only once in a section")]
    public void Load_InvalidCors_Fails(string cors, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($"<policies><inbound>{cors}</inbound></policies>"));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CorsInOutbound_Fails()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load(
            "<policies><outbound><cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors></outbound></policies>"));

        Assert.Contains("<cors> is not allowed in the outbound section (allowed in: inbound)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private static PolicyDocument Load(string text) =>
        PolicyLoader.Load(text, "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>()));

    private void WriteApiPolicy(string inbound, bool withBase = true) =>
        File.WriteAllText(_apim.PolicyPath, $"<policies>\n<inbound>\n{(withBase ? "<base />" : string.Empty)}\n{inbound}\n</inbound>\n</policies>");

    private static async Task<HttpResponseMessage> PreflightAsync(GatewayFactory factory, string origin, string method, string? headers, string path = ChatPath, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null)
        {
            request.Headers.Add("Access-Control-Request-Headers", headers);
        }

        if (key is not null)
        {
            request.Headers.Add("api-key", key);
        }

        var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Request);
        return response;
    }

    private static async Task<HttpResponseMessage> SendAsync(GatewayFactory factory, HttpMethod method, string? origin, string path = ChatPath)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Request);
        return response;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;
}
