using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Pipeline;

/// <summary><c>context.Response.Body</c> in outbound, with API Management's consume-unless-preserved rule.</summary>
public sealed class ResponseBodyTests : IAsyncLifetime, IDisposable
{
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task ResponseBody_ReadWithPreserveContent_IsSeenByThePolicyAndStillSentToTheCaller()
    {
        WritePolicy(forward: "<forward-request />", read: """@(context.Response.Body.As<JObject>(preserveContent: true)["ok"].ToString())""");

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("True", response.Headers.GetValues("x-read").Single());
        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ResponseBody_ReadWithoutPreserveContent_IsConsumedAndTheCallerGetsAnEmptyBody()
    {
        WritePolicy(forward: "<forward-request />", read: "@(context.Response.Body.As<string>().Length.ToString())");

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("11", response.Headers.GetValues("x-read").Single());
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task ResponseBody_OfAnUnbufferedResponse_IsReadWholeAndStillSentToTheCaller()
    {
        // buffer-response="false" streams chunks as they come; a policy that reads the body waits for all of it, as in
        // API Management, and the caller still gets it.
        WritePolicy(forward: """<forward-request buffer-response="false" />""", read: "@(context.Response.Body.As<string>(preserveContent: true))");

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"ok":true}""", response.Headers.GetValues("x-read").Single());
        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ResponseBody_AfterSetBodyInOutbound_IsWhatSetBodyWrote()
    {
        File.WriteAllText(_apim.PolicyPath, $$"""
            <policies>
              <inbound><set-backend-service base-url="{{_backend.Url}}/openai" /></inbound>
              <backend><forward-request /></backend>
              <outbound>
                <set-body>made here</set-body>
                <set-header name="x-read" exists-action="override"><value>@(context.Response.Body.As<string>(preserveContent: true).ToUpperInvariant())</value></set-header>
              </outbound>
            </policies>
            """);

        using var response = await SendAsync();

        Assert.Equal("MADE HERE", response.Headers.GetValues("x-read").Single());
        Assert.Equal("made here", await response.Content.ReadAsStringAsync());
    }

    private void WritePolicy(string forward, string read) => File.WriteAllText(_apim.PolicyPath, $$"""
        <policies>
          <inbound><set-backend-service base-url="{{_backend.Url}}/openai" /></inbound>
          <backend>{{forward}}</backend>
          <outbound>
            <set-header name="x-read" exists-action="override"><value>{{read}}</value></set-header>
          </outbound>
          <on-error>
            <set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + " " + context.LastError.Reason)</value></set-header>
          </on-error>
        </policies>
        """);

    private async Task<HttpResponseMessage> SendAsync()
    {
        using var factory = new GatewayFactory(_apim, _backend.Url);
        return await factory.CreateClient().PostChatAsync(body: """{"messages":[]}""");
    }
}
