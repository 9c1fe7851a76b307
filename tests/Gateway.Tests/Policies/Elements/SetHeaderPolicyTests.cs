using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class SetHeaderPolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    /// <summary>The same action on a request header the client sent (inbound) and on a response header the backend sent (outbound).</summary>
    [Theory]
    [InlineData("""exists-action="override" """, "policy", "policy")]
    [InlineData("", "policy", "policy")]
    [InlineData("""exists-action="skip" """, "client", "recording")]
    [InlineData("""exists-action="append" """, "client,policy", "recording,policy")]
    [InlineData("""exists-action="delete" """, null, null)]
    [Covers("set-header", "name", "exists-action")]
    public async Task SetHeader_ExistingHeader_IsOverriddenKeptAppendedOrDeleted(string action, string? forwarded, string? returned)
    {
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
                <set-header name="x-team" {{action}}><value>policy</value></set-header>
                <set-header name="x-added" {{action}}><value>new</value></set-header>
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
              <outbound>
                <set-header name="x-backend" {{action}}><value>policy</value></set-header>
              </outbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendChatAsync(factory, "x-team", "client");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.Equal(forwarded, List(received.Headers.GetValueOrDefault("x-team")));
        Assert.Equal(returned, response.Headers.TryGetValues("x-backend", out var values) ? string.Join(",", values) : null);

        // A header that is not there yet is added by every action but delete.
        Assert.Equal(forwarded is null ? null : "new", received.Headers.GetValueOrDefault("x-added"));
    }

    /// <summary>CR/LF in a value a policy sets (from a caller's input, say) is a policy error, never a second header.</summary>
    [Theory]
    [InlineData("inbound")]
    [InlineData("outbound")]
    public async Task SetHeader_ValueWithCrLf_IsAPolicyError_NotASplitHeader(string section)
    {
        var setHeader = """<set-header name="x-echo" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-in", "") + "\r\nx-injected: 1")</value></set-header>""";
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
                {{(section == "inbound" ? setHeader : string.Empty)}}
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
              <outbound>
                {{(section == "outbound" ? setHeader : string.Empty)}}
              </outbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendChatAsync(factory, "x-in", "hello");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(response.Headers.Contains("x-injected"));
        Assert.False(response.Headers.Contains("x-echo"));
        Assert.All(_backend.Requests, r => Assert.False(r.Headers.ContainsKey("x-injected")));
        Assert.Equal(section == "inbound" ? 0 : 1, _backend.Requests.Count);
    }

    /// <summary>A chat call with the subscription key and one header of the client's.</summary>
    private static Task<HttpResponseMessage> SendChatAsync(GatewayFactory factory, string header, string value) =>
        factory.CreateClient().PostChatAsync(headers: [(header, value)]);

    /// <summary>A header's values as one comma-separated list, whether they came as one line or several.</summary>
    private static string? List(string? header) => header is null ? null : string.Join(",", header.Split(',').Select(v => v.Trim()));
}
