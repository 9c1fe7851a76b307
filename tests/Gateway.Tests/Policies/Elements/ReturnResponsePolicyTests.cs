using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class ReturnResponsePolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    [Covers("return-response", "response-variable-name")]
    public async Task ReturnResponse_ResponseVariable_AnswersWithThatResponseAndItsChildrensChanges()
    {
        _backend.Statuses.Enqueue(201);
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
              <outbound>
                <set-variable name="backend-response" value="@(context.Response)" />
                <return-response response-variable-name="backend-response">
                  <set-header name="x-returned" exists-action="override"><value>yes</value></set-header>
                </return-response>
                <set-status code="500" reason="Not reached" />
              </outbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("recording", response.Headers.GetValues("x-backend").Single());
        Assert.Equal("yes", response.Headers.GetValues("x-returned").Single());
    }
}
