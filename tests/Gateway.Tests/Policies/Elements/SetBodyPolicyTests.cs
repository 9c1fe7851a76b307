using System.Net;
using System.Text;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class SetBodyPolicyTests : IAsyncLifetime
{
    private const string Body = """{"messages":[{"role":"user","content":"hello"}]}""";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task BodyAs_PreservingContent_ReadsJsonAndStillForwardsTheBody()
    {
        using var response = await SendAsync("""
            <set-header name="x-first-message" exists-action="override">
              <value>@((string)context.Request.Body.As<JObject>(preserveContent: true)["messages"][0]["content"])</value>
            </set-header>
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.Equal("hello", received.Headers["x-first-message"]);
        Assert.Equal(Body, received.Body);
    }

    [Fact]
    public async Task BodyAs_WithoutPreservingContent_ForwardsAnEmptyBodyAsApiManagementDoes()
    {
        using var response = await SendAsync("""<set-variable name="text" value="@(context.Request.Body.As<string>())" />""");

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join(",", response.Headers.TryGetValues("x-error", out var e) ? e : []));
        var received = Assert.Single(_backend.Requests);
        Assert.Equal(string.Empty, received.Body);
        Assert.Equal("0", received.Headers["Content-Length"]);
    }

    [Fact]
    [Covers("set-body")]
    public async Task SetBody_Inbound_RewritesTheForwardedRequest()
    {
        using var response = await SendAsync("""
            <set-body>@{
              var body = context.Request.Body.As<JObject>(preserveContent: true);
              body["max_tokens"] = 5;
              return body;
            }</set-body>
            """);

        var received = Assert.Single(_backend.Requests);
        Assert.Equal("""{"messages":[{"role":"user","content":"hello"}],"max_tokens":5}""", received.Body);
        Assert.Equal(Encoding.UTF8.GetByteCount(received.Body).ToString(System.Globalization.CultureInfo.InvariantCulture), received.Headers["Content-Length"]);
    }

    [Fact]
    [Covers("set-body")]
    public async Task SetBody_Outbound_ReplacesTheBackendsBody()
    {
        using var response = await SendAsync(inbound: string.Empty, outbound: """<set-body>{"replaced":true}</set-body>""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"replaced":true}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("recording", response.Headers.GetValues("x-backend").Single());
    }

    [Fact]
    [Covers("set-body")]
    [Covers("return-response")]
    public async Task SetBody_InReturnResponse_IsTheAnswer()
    {
        using var response = await SendAsync("""
            <return-response>
              <set-status code="400" reason="Bad Request" />
              <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
              <set-body>@(new JObject(new JProperty("error", "no")).ToString())</set-body>
            </return-response>
            """);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"error":"no"}""", (await response.Content.ReadAsStringAsync()).Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal));
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task SetBody_TemplateNone_SendsTheTextAsWritten()
    {
        using var response = await SendAsync("""<set-body template="none">{% if true %}raw{% endif %}</set-body>""");

        Assert.Equal("{% if true %}raw{% endif %}", Assert.Single(_backend.Requests).Body);
    }

    [Fact]
    [Covers("set-body", "template")]
    public void Load_LiquidTemplate_IsRefused()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            """<policies><inbound><set-body template="liquid">{{body.x}}</set-body></inbound></policies>""", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?> { ["body.x"] = "x" })));

        Assert.Contains("template=\"liquid\" is not supported", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> SendAsync(string inbound, string outbound = "")
    {
        var apim = new TestApim(TestPolicy.With(
            TestPolicy.ToEastUs2 + inbound,
            TestPolicy.ForwardUnbuffered,
            outbound,
            """<set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>"""));
        using (apim)
        {
            using var factory = new GatewayFactory(apim, _backend.Url);
            return await factory.CreateClient().PostChatAsync(body: Body);
        }
    }
}
