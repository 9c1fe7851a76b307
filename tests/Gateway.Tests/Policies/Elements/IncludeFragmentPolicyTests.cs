using System.Net;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class IncludeFragmentPolicyTests : IDisposable
{
    private readonly TestApim _apim = new();

    [Fact]
    [Covers("include-fragment", "fragment-id")]
    public async Task Fragment_RunsInPlaceAndCompilesIntoTheDocumentsAssembly()
    {
        WriteFragment("team-header", """
            <fragment>
              <set-header name="x-team" exists-action="override"><value>@(context.Subscription.Name)</value></set-header>
            </fragment>
            """);
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <include-fragment fragment-id="team-header" />
                <return-response>
                  <set-header name="x-seen" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-team", "none"))</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);

        using (var document = Load(File.ReadAllText(_apim.PolicyPath)))
        {
            Assert.Equal(2, document.Expressions.Count);
        }

        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        using var response = await factory.CreateClient().PostChatAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat-app", response.Headers.GetValues("x-seen").Single());
    }

    [Fact]
    public void Fragment_Missing_IsAnErrorNamingWhereItWasExpected()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""<policies><inbound><include-fragment fragment-id="nowhere" /></inbound></policies>"""));

        Assert.Contains(Path.Combine(_apim.Path, "fragments", "nowhere.xml"), Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Fragment_WithBrokenExpression_ReportsTheFragmentsFileAndLine()
    {
        var path = WriteFragment("broken", "<fragment>\n  <set-variable name=\"a\" value=\"@(context.Nope)\" />\n</fragment>");

        var error = Assert.Throws<PolicyLoadException>(() => Load("""<policies><inbound><include-fragment fragment-id="broken" /></inbound></policies>"""));

        Assert.StartsWith($"{path}(2,43): error CS1061", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Fragment_IncludingItself_IsRefused()
    {
        WriteFragment("loop", """<fragment><include-fragment fragment-id="loop" /></fragment>""");

        var error = Assert.Throws<PolicyLoadException>(() => Load("""<policies><inbound><include-fragment fragment-id="loop" /></inbound></policies>"""));

        Assert.Contains("fragment 'loop' includes itself (through loop > loop)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    public void Dispose() => _apim.Dispose();

    private string WriteFragment(string id, string text)
    {
        var path = Path.Combine(_apim.Path, "fragments", id + ".xml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private PolicyDocument Load(string text) =>
        PolicyLoader.Load(text, _apim.PolicyPath, PolicyScope.Api, NamedValues.Load(_apim.Path, new Dictionary<string, string> { ["managed-identity-client-id"] = "x" }), _apim.Path);
}
