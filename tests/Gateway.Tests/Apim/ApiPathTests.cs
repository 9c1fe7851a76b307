using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Apim;

public sealed class ApiPathTests : IDisposable
{
    private readonly TestApim _apim = new("""<policies><inbound><return-response><set-body>@(context.Operation.Id)</set-body></return-response></inbound></policies>""");

    [Fact]
    public async Task EmptyApiPath_ServesTheOperationsAtTheRoot()
    {
        var apiFile = Path.Combine(Path.GetDirectoryName(_apim.PolicyPath)!, "api.json");
        var api = JsonNode.Parse(File.ReadAllText(apiFile))!;
        api["path"] = string.Empty;
        File.WriteAllText(apiFile, api.ToJsonString());
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await factory.CreateClient().PostChatAsync("/deployments/gpt-4o/chat/completions?api-version=2024-10-21");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ChatCompletions_Create", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/openai/deployments/gpt-4o/chat/completions", "ChatCompletions_Create gpt-4o")]
    [InlineData("/OpenAI/Deployments/My-Model/CHAT/completions/", "ChatCompletions_Create My-Model")]
    public async Task AnOperation_MatchesWithoutCase_AndItsParameterKeepsTheCaseSent(string path, string expected)
    {
        using var apim = new TestApim("""<policies><inbound><return-response><set-body>@(context.Operation.Id + " " + context.Request.MatchedParameters["deployment-id"])</set-body></return-response></inbound></policies>""");
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");

        using var response = await factory.CreateClient().PostChatAsync(path + "?api-version=2024-10-21");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task APathOfManySegments_MatchesNoOperation()
    {
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await factory.CreateClient().PostChatAsync("/openai/deployments/gpt-4o/chat/completions" + string.Concat(Enumerable.Repeat("/x", 40)) + "?api-version=2024-10-21");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    public void Dispose() => _apim.Dispose();
}
