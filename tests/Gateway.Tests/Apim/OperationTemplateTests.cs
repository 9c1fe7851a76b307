using System.Net;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Tests.Support;

namespace Gateway.Tests.Apim;

/// <summary>
/// An operation's URL template the gateway cannot match fails the load with the file and the operation named, rather than
/// ending the process with ASP.NET Core's route parser's exception or matching the wrong requests.
/// </summary>
public sealed class OperationTemplateTests : IDisposable
{
    private readonly TestApim _apim = new("""<policies><inbound><return-response><set-body>@(context.Operation.Id + " " + string.Join(",", context.Request.MatchedParameters.Select(p => p.Key + "=" + p.Value)))</set-body></return-response></inbound></policies>""");

    public void Dispose() => _apim.Dispose();

    [Theory]
    [InlineData("/files/{id}{ext}", "the segment '{id}{ext}' is not a parameter the local gateway can match")]
    [InlineData("/files/{id}.{ext}", "the segment '{id}.{ext}' is not a parameter the local gateway can match")]
    [InlineData("/files/v{version}", "the segment 'v{version}' is not a parameter the local gateway can match")]
    [InlineData("/files/{}", "the segment '{}' is not a parameter the local gateway can match")]
    [InlineData("/files/{id", "the segment '{id' is not a parameter the local gateway can match")]
    [InlineData("/files/id}", "the segment 'id}' is not a parameter the local gateway can match")]
    [InlineData("/files/{id}/parts/{ID}", "the parameter {ID} appears more than once (names compare without case)")]
    [InlineData("/files?name={name}", "a '?' or '#' in the URL template (a query, a fragment, or an optional parameter) is not supported")]
    [InlineData("/files/{id?}", "a '?' or '#' in the URL template (a query, a fragment, or an optional parameter) is not supported")]
    [InlineData("/files#top", "a '?' or '#' in the URL template (a query, a fragment, or an optional parameter) is not supported")]
    [InlineData("/files/a%20b", "percent-encoding in the URL template is not supported")]
    [InlineData("/files//parts", "the URL template has an empty segment ('//')")]
    public void Load_ATemplateTheGatewayCannotMatch_IsRefusedNamingTheOperation(string template, string problem)
    {
        _apim.AddOperation(template, "Files_Post");

        var ex = Assert.Throws<ApimArtifactException>(() => GatewayArtifacts.Load(_apim.Options()));

        Assert.Contains(_apim.DefinitionPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"POST {template} (Files_Post): {problem}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATemplateAspNetCoresRouteParserRefuses_IsServed_ItsParameterAWholeSegment()
    {
        // {*rest} before another segment is a catch-all in ASP.NET Core's route syntax, which it refuses there; to API
        // Management and the gateway it is a parameter named *rest. Only the operation's telemetry endpoint uses the parser.
        _apim.AddOperation("/files/{*rest}/meta", "Files_Post");
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await factory.CreateClient().PostChatAsync("/openai/files/a.txt/meta?api-version=2024-10-21");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Files_Post *rest=a.txt", await response.Content.ReadAsStringAsync());
    }
}
