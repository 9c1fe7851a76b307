using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class SetStatusPolicyTests
{
    [Fact]
    [Covers("set-status", "code")]
    public async Task SetStatus_WithoutReason_SendsTheStandardReasonPhrase()
    {
        // The reference marks reason required; Microsoft's deployed samples omit it (docs/fidelity.md, "Evidence rule").
        using var response = await SendAsync("""
            <return-response>
              <set-status code="403" />
              <set-header name="x-reason" exists-action="override"><value>@(context.Response.StatusReason)</value></set-header>
            </return-response>
            """);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Forbidden", response.ReasonPhrase);
        Assert.Equal("Forbidden", response.Headers.GetValues("x-reason").Single());
    }

    [Fact]
    [Covers("set-status", "code", "reason")]
    public async Task SetStatus_WithoutReason_ReplacesAnEarlierReason()
    {
        using var response = await SendAsync("""
            <return-response>
              <set-status code="200" reason="Fine" />
              <set-status code="@(404)" />
              <set-header name="x-reason" exists-action="override"><value>@(context.Response.StatusReason)</value></set-header>
            </return-response>
            """);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Not Found", response.Headers.GetValues("x-reason").Single());
    }

    private static async Task<HttpResponseMessage> SendAsync(string inbound)
    {
        using var apim = new TestApim($"""
            <policies>
              <inbound>
                {inbound}
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        return await factory.CreateClient().PostChatAsync();
    }
}
