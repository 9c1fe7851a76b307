using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

/// <summary>set-method and check-header through the gateway, against a recording backend.</summary>
public sealed class RequestShapingPolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    [Covers("set-method")]
    public async Task SetMethod_ChangesTheForwardedMethod()
    {
        using var response = await SendAsync("""<set-method>PUT</set-method>""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("PUT", Assert.Single(_backend.Requests).Method);
    }

    [Fact]
    [Covers("set-method")]
    public async Task SetMethodAndBody_OnARequestWithoutABody_SendsTheNewBody()
    {
        // Microsoft's OAuth callback samples turn a body-less GET into a POST with a form body.
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
                <set-method>POST</set-method>
                <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
                <set-body>{"messages":[{"role":"user","content":"from a GET"}]}</set-body>
              </inbound>
              <backend>
                <forward-request />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openai/v1/models");
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);

        using var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.Equal("POST", received.Method);
        Assert.Equal("""{"messages":[{"role":"user","content":"from a GET"}]}""", received.Body);
        Assert.Equal("application/json", received.Headers["Content-Type"]);
    }

    [Theory]
    [InlineData(null, 401, """{"statusCode": 401, "message": "Team header required"}""")]
    [InlineData("other", 401, """{"statusCode": 401, "message": "Team header required"}""")]
    [InlineData("Search", 200, null)]
    [Covers("check-header", "name", "failed-check-error-message", "ignore-case")]
    public async Task CheckHeader_MissingOrUnlistedValue_GetsTheConfiguredAnswer(string? team, int status, string? body)
    {
        using var response = await SendAsync(
            """
            <check-header name="x-team" failed-check-httpcode="401" failed-check-error-message="Team header required" ignore-case="true">
              <value>chat</value>
              <value>search</value>
            </check-header>
            """,
            team);

        Assert.Equal(status, (int)response.StatusCode);
        if (body is not null)
        {
            Assert.Equal(body, await response.Content.ReadAsStringAsync());
            Assert.Empty(_backend.Requests);
        }
    }

    [Fact]
    [Covers("check-header", "failed-check-httpcode")]
    public async Task CheckHeader_Failure_RunsOnErrorWithTheReason()
    {
        using var response = await SendAsync(
            """<check-header name="x-team" failed-check-httpcode="403" failed-check-error-message="no" ignore-case="false" />""",
            onError: """<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>""");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("HeaderNotFound", response.Headers.GetValues("x-reason").Single());
    }

    private async Task<HttpResponseMessage> SendAsync(string inbound, string? team = null, string onError = "")
    {
        using var apim = new TestApim(TestPolicy.With(TestPolicy.ToEastUs2 + inbound, TestPolicy.ForwardUnbuffered, onError: onError));
        using var factory = new GatewayFactory(apim, _backend.Url);
        return await factory.CreateClient().PostChatAsync(body: """{"messages":[]}""", headers: team is null ? null : [("x-team", team)]);
    }
}
