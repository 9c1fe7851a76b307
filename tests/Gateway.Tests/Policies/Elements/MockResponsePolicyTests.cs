using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public class MockResponsePolicyTests
{
    [Fact]
    [Covers("mock-response", "status-code")]
    public async Task MockResponse_AnswersTheDefinitionsExampleOrNothing()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <choose>
                  <when condition="@(context.Request.Headers.ContainsKey("x-down"))">
                    <mock-response status-code="503" />
                  </when>
                </choose>
                <mock-response />
              </inbound>
            </policies>
            """);
        var definition = apim.DefinitionPath;
        var document = JsonNode.Parse(File.ReadAllText(definition))!;
        document["paths"]!["/deployments/{deployment-id}/chat/completions"]!["post"]!["responses"]!["200"]!["content"]!["application/json"]!["example"] =
            JsonNode.Parse("""{"id":"chatcmpl-example","object":"chat.completion","choices":[]}""");
        File.WriteAllText(definition, document.ToJsonString());
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();

        using var mocked = await SendAsync(client, down: false);
        using var down = await SendAsync(client, down: true);

        Assert.Equal(HttpStatusCode.OK, mocked.StatusCode);
        Assert.Equal("""{"id":"chatcmpl-example","object":"chat.completion","choices":[]}""", await mocked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal(string.Empty, await down.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("mock-response", "content-type")]
    public async Task MockResponse_ContentType_PicksThatMediaTypesExampleAndSendsIt()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <mock-response status-code="200" content-type="text/event-stream" />
              </inbound>
            </policies>
            """);
        var definition = apim.DefinitionPath;
        var document = JsonNode.Parse(File.ReadAllText(definition))!;
        var content = document["paths"]!["/deployments/{deployment-id}/chat/completions"]!["post"]!["responses"]!["200"]!["content"]!;
        content["application/json"]!["example"] = JsonNode.Parse("""{"id":"chatcmpl-json"}""");
        content["text/event-stream"]!["example"] = "data: [DONE]\n\n";
        File.WriteAllText(definition, document.ToJsonString());
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");

        using var response = await SendAsync(factory.CreateClient(), down: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("data: [DONE]\n\n", await response.Content.ReadAsStringAsync());
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, bool down) =>
        client.PostChatAsync(headers: down ? [("x-down", "1")] : null);
}
