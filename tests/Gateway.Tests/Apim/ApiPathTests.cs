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
    public async Task AnOperationOfManySegments_Matches_AndOneSegmentMoreOrLessDoesNot()
    {
        // More segments than the router splits on the stack (it splits into an array then), and than ASP.NET Core's route
        // patterns allow (28): its telemetry endpoint is a plain one.
        var template = string.Concat(Enumerable.Range(1, 40).Select(i => $"/s{i}")) + "/{last}";
        _apim.AddOperation(template, "Long_Create");
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();
        var path = "/openai" + template.Replace("{last}", "end", StringComparison.Ordinal);

        using var matched = await client.PostChatAsync(path + "?api-version=2024-10-21");
        using var longer = await client.PostChatAsync(path + "/more?api-version=2024-10-21");
        using var shorter = await client.PostChatAsync(path[..path.LastIndexOf('/')] + "?api-version=2024-10-21");

        Assert.Equal(HttpStatusCode.OK, matched.StatusCode);
        Assert.Equal("Long_Create", await matched.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, longer.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, shorter.StatusCode);
    }

    public void Dispose() => _apim.Dispose();
}
