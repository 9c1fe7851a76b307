using System.Net;
using System.Text;
using Gateway.Pipeline;
using Gateway.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Pipeline;

public sealed class GatewayPipelineTests : IAsyncLifetime
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task Send_UnknownPath_Returns404WithApimBody()
    {
        using var apim = new TestApim();
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await factory.CreateClient().PostAsync(new Uri("/openai/nothing-here", UriKind.Relative), Json()).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(ApimResponses.NotFoundBody, await response.Content.ReadAsStringAsync());
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task Send_WrongMethod_Returns404()
    {
        using var apim = new TestApim();
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await factory.CreateClient().GetAsync(new Uri(ChatPath, UriKind.Relative)).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData(null, ApimResponses.MissingKeyBody)]
    [InlineData("not-a-key", ApimResponses.InvalidKeyBody)]
    public async Task Send_MissingOrWrongKey_Returns401WithApimBody(string? key, string body)
    {
        using var apim = new TestApim();
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.StartsWith("AzureApiManagementKey ", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    [Covers("authentication-managed-identity", "resource", "client-id", "output-token-variable-name")]
    public async Task Send_ShippedPolicy_ForwardsWithBearerTokenAndNeverTheKey()
    {
        using var apim = new TestApim();
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.SecondaryKey, ChatPath + "&api-key=" + GatewayFactory.SecondaryKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("recording", response.Headers.GetValues("x-backend").Single());
        var received = Assert.Single(_backend.Requests);
        Assert.Equal("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", received.PathAndQuery);
        Assert.False(received.Headers.ContainsKey("api-key"));
        var token = new JsonWebToken(received.Headers["Authorization"]["Bearer ".Length..]);
        Assert.Equal(["https://cognitiveservices.azure.com"], token.Audiences);
        Assert.Equal("test-client-id", token.GetClaim("appid").Value);
    }

    [Fact]
    public async Task Send_KeyInQueryWithOtherCase_IsAcceptedAndStillNeverForwarded()
    {
        using var apim = new TestApim();
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var request = new HttpRequestMessage(HttpMethod.Post, ChatPath + "&API-KEY=" + GatewayFactory.PrimaryKey) { Content = Json() };

        using var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.DoesNotContain(GatewayFactory.PrimaryKey, received.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(new Uri(_backend.Url).Authority, received.Headers["Host"]);
    }

    [Fact]
    [Covers("forward-request", "buffer-request-body")]
    public async Task Send_SecondForwardRequest_SendsTheBufferedBodyAgain()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <forward-request buffer-request-body="true" />
                <choose>
                  <when condition="@(context.Response.StatusCode == 200)">
                    <set-backend-service backend-id="aoai-japaneast-gpt-4o" />
                    <forward-request buffer-request-body="true" buffer-response="false" />
                  </when>
                </choose>
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, _backend.Requests.Count);
        Assert.All(_backend.Requests, r => Assert.Equal("""{"messages":[{"role":"user","content":"hi"}]}""", r.Body));
    }

    [Fact]
    public async Task Send_HeaderValueWithNewline_IsAPolicyErrorNotAnInjectedHeader()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <return-response>
                  <set-header name="x-bad" exists-action="override"><value>@("a\r\nx-injected: 1")</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(response.Headers.Contains("x-injected"));
    }

    [Fact]
    [Covers("return-response")]
    [Covers("set-status", "code", "reason")]
    [Covers("set-header", "name")]
    public async Task Send_ReturnResponseInInbound_AnswersWithoutCallingTheBackend()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <return-response>
                  <set-status code="429" reason="Slow down" />
                  <set-header name="Retry-After" exists-action="override"><value>@((7 * 2).ToString())</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal("Slow down", response.ReasonPhrase);
        Assert.Equal("14", response.Headers.GetValues("Retry-After").Single());
        Assert.Empty(_backend.Requests);
    }

    [Theory]
    [InlineData("<choose><when condition=\"@(true)\"><set-variable name=\"n\" value=\"@((int)context.Variables[&quot;missing&quot;])\" /></when></choose>", "set-variable|ExpressionValueEvaluationFailure|api|inbound|choose[1]/when[1]/set-variable[1]")]
    [InlineData("<choose><when condition=\"@((int)context.Variables[&quot;missing&quot;] > 0)\"><set-variable name=\"n\" value=\"1\" /></when></choose>", "choose|ExpressionValueEvaluationFailure|api|inbound|choose[1]")]
    [InlineData("<choose><when condition=\"@(false)\" /><when condition=\"@(((string)null).Length > 0)\" /></choose>", "choose|ExpressionValueEvaluationFailure|api|inbound|choose[1]")]
    public async Task Send_ExpressionThrows_RunsOnErrorWithApimLastError(string inbound, string expected)
    {
        // In a value, or in a condition (called as the bool it returns, so nothing is boxed): the same error either way.
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                {{inbound}}
              </inbound>
              <on-error>
                <return-response>
                  <set-status code="503" reason="Handled" />
                  <set-header name="x-error" exists-action="override">
                    <value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Scope + "|" + context.LastError.Section + "|" + context.LastError.Path)</value>
                  </set-header>
                </return-response>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(expected, response.Headers.GetValues("x-error").Single());
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task Send_LiteralVariableCastToInt_ThrowsAndTakesOnErrorAsInApiManagement()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-variable name="retries" value="1" />
                <set-variable name="next" value="@((int)context.Variables["retries"] + 1)" />
              </inbound>
              <on-error>
                <return-response>
                  <set-status code="500" reason="Cast" />
                  <set-header name="x-error" exists-action="override"><value>@(context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>
                </return-response>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.StartsWith("ExpressionValueEvaluationFailure|Expression evaluation failed. Unable to cast object of type 'System.String' to type 'System.Int32'.", response.Headers.GetValues("x-error").Single(), StringComparison.Ordinal);
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task Send_UnhandledPolicyError_Returns500WithActivityId()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="no-such-backend" />
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(500, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Internal server error", body.GetProperty("message").GetString());
        Assert.True(Guid.TryParse(body.GetProperty("activityId").GetString(), out _));
    }

    [Fact]
    [Covers("set-variable", "name", "value")]
    public async Task Send_SetVariable_LiteralIsStringExpressionKeepsItsType()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-variable name="literal" value="1" />
                <set-variable name="typed" value="@(1)" />
                <return-response>
                  <set-status code="200" reason="OK" />
                  <set-header name="x-types" exists-action="override">
                    <value>@((context.Variables["literal"] is string) + "," + (context.Variables["typed"] is int) + "," + context.Variables.GetValueOrDefault<int>("typed"))</value>
                  </set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal("True,True,1", response.Headers.GetValues("x-types").Single());
    }

    [Theory]
    [InlineData("yes", "first")]
    [InlineData("no", "other")]
    [Covers("choose")]
    public async Task Send_Choose_RunsFirstMatchingWhenOrOtherwise(string header, string expected)
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <choose>
                  <when condition="@(context.Request.Headers.GetValueOrDefault("x-flag", "") == "yes")">
                    <set-variable name="branch" value="first" />
                  </when>
                  <otherwise>
                    <set-variable name="branch" value="other" />
                  </otherwise>
                </choose>
                <return-response>
                  <set-header name="x-branch" exists-action="override"><value>@((string)context.Variables["branch"])</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage, headers: [("x-flag", header)]);

        Assert.Equal(expected, response.Headers.GetValues("x-branch").Single());
    }

    [Fact]
    public async Task Send_RequestUrl_IsTheGatewaysUntilABackendIsSet_ThenTheBackendsWithTheOperationPath()
    {
        // As Microsoft's samples read it: AI-Gateway labs/aws-bedrock signs for context.Request.Url.Host after
        // set-backend-service; Apim-Samples all-apis-reveal-backend reports context.Request.Url in outbound.
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-variable name="before" value="@(context.Request.Url.Host)" />
                <set-backend-service base-url="https://backend.example:8443/base/" />
                <set-variable name="after" value="@(context.Request.Url.ToString() + "|" + context.Request.Url.Path + "|" + context.Request.Url.Port + "|" + context.Request.OriginalUrl.Host)" />
                <return-response>
                  <set-header name="x-urls" exists-action="override"><value>@((string)context.Variables["before"] + "|" + (string)context.Variables["after"])</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage);

        Assert.Equal(
            "localhost|https://backend.example:8443/base/deployments/gpt-4o/chat/completions?api-version=2024-10-21|/base/deployments/gpt-4o/chat/completions|8443|localhost",
            response.Headers.GetValues("x-urls").Single());
    }

    [Fact]
    public async Task Send_RequestUrl_InOutboundAfterAPool_IsTheMemberThatServed()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="gpt-4o-pool" />
              </inbound>
              <backend>
                <forward-request />
              </backend>
              <outbound>
                <set-header name="x-backend-url" exists-action="override"><value>@(context.Request.Url.ToString())</value></set-header>
              </outbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage);

        Assert.Equal(_backend.Url + "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", response.Headers.GetValues("x-backend-url").Single());
    }

    [Fact]
    public async Task Send_ExpressionsAmongLiteralTextInAnAttribute_AreEvaluatedInPlace()
    {
        // As Microsoft's MCP labs write base-url and cache keys: raw quotes, several expressions, text around them.
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-variable name="key" value="CodeVerifier-@(context.Request.Headers.GetValueOrDefault("x-state", "none")).@(1 + 1)-@{ return context.Subscription.Name; }!" />
                <return-response>
                  <set-header name="x-key" exists-action="override"><value>@((string)context.Variables["key"])</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage, headers: [("x-state", "s1")]);

        Assert.Equal("CodeVerifier-s1.2-chat-app!", response.Headers.GetValues("x-key").Single());
    }

    [Theory]
    [InlineData("abc", "abc|abc")]
    [InlineData(null, "none|")]
    public async Task Send_HeadersGetValueOrDefaultWithOneArgument_IsAString(string? header, string expected)
    {
        // Apim-Samples shared/apim-policies/fragments/pf-correlation-id.xml casts the one-argument form to string.
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <return-response>
                  <set-header name="x-seen" exists-action="override"><value>@{
                    var single = (string)context.Request.Headers.GetValueOrDefault("x-correlation-id");
                    string typed = context.Request.Headers.GetValueOrDefault("x-correlation-id");
                    return (single ?? "none") + "|" + typed;
                  }</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage, headers: header is null ? null : [("x-correlation-id", header)]);

        Assert.Equal(expected, response.Headers.GetValues("x-seen").Single());
    }

    [Fact]
    [Covers("base")]
    public async Task Send_BackendSectionOnlyBase_ForwardsThroughTheGlobalForwardRequest()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-japaneast-gpt-4o" />
                <set-header name="x-added" exists-action="append"><value>a</value><value>b</value></set-header>
              </inbound>
              <backend>
                <base />
              </backend>
              <outbound>
                <set-header name="x-backend" exists-action="override"><value>@("seen:" + context.Response.Headers.GetValueOrDefault("x-backend", "none"))</value></set-header>
                <set-status code="201" reason="Created" />
              </outbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("seen:recording", response.Headers.GetValues("x-backend").Single());
        var received = Assert.Single(_backend.Requests);
        Assert.Equal("a,b", received.Headers["x-added"]);
        Assert.Equal(GatewayFactory.PrimaryKey, received.Headers["api-key"]);
    }

    [Fact]
    public async Task Send_NoForwardRequestReached_AnswersWithoutCallingTheBackend()
    {
        using var apim = new TestApim("""
            <policies>
              <backend>
                <set-variable name="nothing" value="forwarded" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await Send(factory, GatewayFactory.PrimaryKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_backend.Requests);
    }

    private static Task<HttpResponseMessage> Send(GatewayFactory factory, string? key, string path = ChatPath) =>
        factory.CreateClient().PostChatAsync(path, ChatCalls.OneUserMessage, key);

    private static StringContent Json() => new("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");
}
