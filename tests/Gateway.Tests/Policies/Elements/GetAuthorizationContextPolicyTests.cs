using System.Net;
using System.Text.Json;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Policies.Elements;

public sealed class GetAuthorizationContextPolicyTests : IAsyncLifetime
{
    private const string Token = "gho_l0cal-g1thub-t0ken";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    [Covers("get-authorization-context", "provider-id", "authorization-id", "context-variable-name", "identity-type", "ignore-error")]
    public async Task GetAuthorizationContext_ManagedIdentity_TheTokenAuthorizesTheBackendCall()
    {
        // The reference's "Attach the token to the backend call" example.
        using var response = await SendAsync("""
            <get-authorization-context provider-id="github" authorization-id="github-conn" context-variable-name="auth-context" identity-type="managed" ignore-error="false" />
            <set-header name="Authorization" exists-action="override">
              <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
            </set-header>
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer " + Token, Assert.Single(_backend.Requests).Headers["Authorization"]);
    }

    [Fact]
    [Covers("get-authorization-context", "provider-id", "authorization-id", "context-variable-name")]
    public async Task GetAuthorizationContext_IdsFromRequestHeaders_TakesTheConnectionTheCallerNames()
    {
        // AI-Gateway's MCP labs name the connection in request headers; ids compare without case, as Azure's names do.
        using var response = await SendAsync(
            """
            <get-authorization-context provider-id="@(context.Request.Headers["providerId"][0])" authorization-id="@(context.Request.Headers["authorizationId"][0])" context-variable-name="@("auth-" + "context")" />
            <set-header name="Authorization" exists-action="override">
              <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
            </set-header>
            """,
            headers: new() { ["providerId"] = "GitHub", ["authorizationId"] = "GITHUB-CONN" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer " + Token, Assert.Single(_backend.Requests).Headers["Authorization"]);
    }

    [Fact]
    [Covers("get-authorization-context", "context-variable-name")]
    public async Task GetAuthorizationContext_Claims_AreReadableAsObjects()
    {
        using var response = await SendAsync("""
            <get-authorization-context provider-id="github" authorization-id="github-conn" context-variable-name="auth" />
            <return-response>
              <set-status code="200" reason="OK" />
              <set-header name="x-scope" exists-action="override"><value>@((string)((Authorization)context.Variables["auth"]).Claims["scope"])</value></set-header>
              <set-header name="x-claims" exists-action="override"><value>@(context.Variables.GetValueOrDefault<Authorization>("auth").Claims.Count.ToString())</value></set-header>
              <set-header name="x-text" exists-action="override"><value>@(context.Variables["auth"].ToString())</value></set-header>
            </return-response>
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("repo read:user", Header(response, "x-scope"));
        Assert.Equal("2", Header(response, "x-claims"));
        Assert.Equal("Authorization", Header(response, "x-text"));
        Assert.Empty(_backend.Requests);
    }

    [Theory]
    [InlineData("missing-conn", "false", "get-authorization-context|ConnectionNotFound", null)]
    [InlineData("broken-conn", "false", "get-authorization-context|ConnectionError", null)]
    [InlineData("missing-conn", "true", null, "null")]
    [InlineData("broken-conn", "@(1 == 1)", null, "null")]
    [Covers("get-authorization-context", "ignore-error")]
    public async Task GetAuthorizationContext_ConnectionUnusable_GoesToOnErrorUnlessIgnoringErrors(string connection, string ignoreError, string? error, string? variable)
    {
        using var response = await SendAsync($$"""
            <get-authorization-context provider-id="github" authorization-id="{{connection}}" context-variable-name="auth" ignore-error="{{ignoreError}}" />
            <return-response>
              <set-status code="200" reason="OK" />
              <set-header name="x-auth" exists-action="override"><value>@(context.Variables.ContainsKey("auth") &amp;&amp; context.Variables["auth"] == null ? "null" : "set")</value></set-header>
            </return-response>
            """);

        Assert.Equal(error is null ? HttpStatusCode.OK : HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(error, Header(response, "x-error"));
        Assert.Equal(variable, Header(response, "x-auth"));
    }

    [Fact]
    [Covers("get-authorization-context", "provider-id", "authorization-id")]
    public async Task GetAuthorizationContext_UnknownConnectionAndNoOnError_AnswersTheUnhandled500()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <get-authorization-context provider-id="github" authorization-id="nope" context-variable-name="auth" />
              </inbound>
              <backend><forward-request /></backend>
              <outbound />
              <on-error />
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url, settings: Connections());

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Internal server error", body.RootElement.GetProperty("message").GetString());
        Assert.Empty(_backend.Requests);
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, "get-authorization-context|PermissionDenied")]
    [Covers("get-authorization-context", "identity-type", "identity")]
    public async Task GetAuthorizationContext_JwtIdentity_NeedsAnAccessPolicyForItsObjectAndTenant(bool permitted, string? error)
    {
        // The reference's "Get token from incoming request" example.
        var identity = AuthorizationManagerTokens.Mint(DateTimeOffset.UtcNow, objectId: permitted ? AuthorizationManagerTokens.ObjectId : "00000000-0000-4000-8000-000000000bad");
        using var response = await SendAsync(
            """
            <get-authorization-context provider-id="github" authorization-id="github-conn" context-variable-name="auth-context" identity-type="jwt" identity="@(context.Request.Headers["Authorization"][0].Replace("Bearer ", ""))" ignore-error="false" />
            <return-response>
              <set-status code="200" reason="OK" />
              <set-body template="none">@(((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</set-body>
            </return-response>
            """,
            headers: new() { ["Authorization"] = "Bearer " + identity });

        Assert.Equal(error, Header(response, "x-error"));
        Assert.Equal(permitted ? Token : string.Empty, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("get-authorization-context", "identity-type", "identity")]
    public async Task GetAuthorizationContext_ManagedIdentity_DoesNotEvaluateTheIdentity()
    {
        // "Ignored for identity-type other than jwt": an identity expression that would throw is not run.
        using var response = await SendAsync("""
            <get-authorization-context provider-id="github" authorization-id="github-conn" context-variable-name="auth" identity-type="@("managed")" identity="@(context.Request.Headers["x-absent"][0])" />
            <return-response>
              <set-status code="200" reason="OK" />
              <set-body template="none">@(((Authorization)context.Variables["auth"]).AccessToken)</set-body>
            </return-response>
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Token, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("get-authorization-context", "provider-id", "authorization-id", "identity-type", "identity")]
    public async Task GetAuthorizationContext_TokensAndIdentities_NeverReachTheLogs()
    {
        var identity = AuthorizationManagerTokens.Mint(DateTimeOffset.UtcNow, objectId: "00000000-0000-4000-8000-000000000bad");
        using var apim = new TestApim(Policy("""
            <get-authorization-context provider-id="github" authorization-id="github-conn" context-variable-name="auth" />
            <set-header name="Authorization" exists-action="override">
              <value>@("Bearer " + ((Authorization)context.Variables["auth"]).AccessToken)</value>
            </set-header>
            <choose>
              <when condition="@(context.Request.Headers.ContainsKey("x-identity"))">
                <get-authorization-context provider-id="github" authorization-id="github-conn" context-variable-name="denied" identity-type="jwt" identity="@(context.Request.Headers["x-identity"][0])" />
              </when>
            </choose>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url, settings: Connections(), testServices: services =>
        {
            services.AddFakeLogging();
            services.PostConfigure<LoggerFilterOptions>(options =>
            {
                options.Rules.Clear();
                options.MinLevel = LogLevel.Trace;
            });
        });
        var client = factory.CreateClient();

        using var served = await SendAsync(client);
        using var denied = await SendAsync(client, new() { ["x-identity"] = identity });

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("get-authorization-context|PermissionDenied", Header(denied, "x-error"));
        var logs = factory.Services.GetFakeLogCollector().GetSnapshot();
        Assert.NotEmpty(logs);
        Assert.All(logs, record =>
        {
            var text = record.Message + string.Join(",", record.StructuredState ?? []) + record.Exception;
            Assert.DoesNotContain(Token, text, StringComparison.Ordinal);
            Assert.DoesNotContain(identity, text, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Start_ConnectionWithoutAccessToken_StopsTheGatewayNamingTheKey()
    {
        using var apim = new TestApim();
        using var factory = new GatewayFactory(apim, _backend.Url, settings: new Dictionary<string, string> { ["Apim:Connections:github:github-conn:Claims:scope"] = "repo" });

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Apim:Connections:github:github-conn has no AccessToken", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""<inbound><get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v" identity-type="user" /></inbound>""", "attribute 'identity-type' of <get-authorization-context> must be managed or jwt, not 'user'")]
    [InlineData("""<inbound><get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v" ignore-error="yes" /></inbound>""", "attribute 'ignore-error' of <get-authorization-context> must be true or false, not 'yes'")]
    [InlineData("""<inbound><get-authorization-context authorization-id="a" context-variable-name="v" /></inbound>""", "<get-authorization-context> requires attribute 'provider-id'")]
    [InlineData("""<inbound><get-authorization-context provider-id="p" context-variable-name="v" /></inbound>""", "<get-authorization-context> requires attribute 'authorization-id'")]
    [InlineData("""<inbound><get-authorization-context provider-id="p" authorization-id="a" /></inbound>""", "<get-authorization-context> requires attribute 'context-variable-name'")]
    [InlineData("""<inbound><get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v" scope="x" /></inbound>""", "unknown attribute 'scope' on <get-authorization-context>")]
    [InlineData("""<outbound><get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v" /></outbound>""", "<get-authorization-context> is not allowed in the outbound section (allowed in: inbound)")]
    public void Load_InvalidGetAuthorizationContext_FailsNamingTheProblem(string sections, string problem)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load($"<policies>{sections}</policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(error.Problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    /// <summary>Connection <c>github-conn</c> of provider <c>github</c> with a token, claims and one access policy; <c>broken-conn</c> in an error state.</summary>
    private static Dictionary<string, string> Connections() => new()
    {
        ["Apim:Connections:github:github-conn:AccessToken"] = Token,
        ["Apim:Connections:github:github-conn:Claims:scope"] = "repo read:user",
        ["Apim:Connections:github:github-conn:Claims:token_type"] = "bearer",
        ["Apim:Connections:github:github-conn:AccessPolicies:0:ObjectId"] = AuthorizationManagerTokens.ObjectId,
        ["Apim:Connections:github:github-conn:AccessPolicies:0:TenantId"] = AuthorizationManagerTokens.TenantId,
        ["Apim:Connections:github:broken-conn:Error"] = "The refresh token was revoked by the user.",
    };

    /// <summary>An API policy that routes to the recording backend, whose on-error answers 502 with the error's source and reason in <c>x-error</c>.</summary>
    private static string Policy(string inbound) =>
        TestPolicy.With(TestPolicy.ToEastUs2 + inbound, outbound: string.Empty, onError: TestPolicy.AnswerWithError(502, "No connection"));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private async Task<HttpResponseMessage> SendAsync(string inbound, Dictionary<string, string>? headers = null)
    {
        using var apim = new TestApim(Policy(inbound));
        using var factory = new GatewayFactory(apim, _backend.Url, settings: Connections());
        return await SendAsync(factory.CreateClient(), headers);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, Dictionary<string, string>? headers = null) =>
        client.PostChatAsync(headers: headers?.Select(h => (h.Key, h.Value)));
}
