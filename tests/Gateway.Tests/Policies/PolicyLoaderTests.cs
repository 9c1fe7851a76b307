using Gateway.Apim;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies;

public class PolicyLoaderTests
{
    [Fact]
    public void Load_ShippedArtifacts_CompileAndRouteEveryOperationOfBothSurfaces()
    {
        using var artifacts = GatewayArtifacts.Load(new ApimOptions { Path = TestApim.RepoApimPath, NamedValues = { ["managed-identity-client-id"] = "x" } });

        var route = Assert.Single(artifacts.Router.Routes);
        Assert.Equal(
            [
                "ChatCompletions_Create", "Completions_Create", "Responses_Create", "Responses_Delete", "Responses_Get", "Responses_ListInputItems", "embeddings_create",
                "v1_ChatCompletions_Create", "v1_Completions_Create", "v1_Embeddings_Create", "v1_Models_List", "v1_Responses_Create", "v1_Responses_Delete", "v1_Responses_Get", "v1_Responses_ListInputItems",
            ],
            route.Definition.Operations.Select(o => o.Id).Order(StringComparer.Ordinal));
        Assert.Equal(10, artifacts.Backends.All.Count);
        Assert.Equal([PolicyScope.Global, PolicyScope.Api], route.Policies.Documents.Select(s => s.Scope));
    }

    [Fact]
    public void Load_UnknownElement_FailsWithFileLineAndName()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <base />
                <rate-limit-by-planet calls="5" />
              </inbound>
            </policies>
            """));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("policy.xml(4,6): error APIM0003: unknown policy element <rate-limit-by-planet>", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownAttribute_FailsWithItsPosition()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <backend>
                <forward-request buffer-response="false" retry-forever="true" />
              </backend>
            </policies>
            """));

        Assert.Equal("policy.xml(3,46): error APIM0004: unknown attribute 'retry-forever' on <forward-request>", Assert.Single(error.Problems));
    }

    [Fact]
    public void Load_BrokenExpression_ReportsCompilerErrorAtItsPlaceInTheFile()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <set-variable name="a" value="@(context.Variables.Count)" />
                <set-variable name="b" value="@(context.NoSuchMember)" />
              </inbound>
            </policies>
            """));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("policy.xml(4,45): error CS1061: 'IContext' does not contain a definition for 'NoSuchMember'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BrokenStatementBlockOnLaterLine_ReportsThatLine()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <set-header name="x" exists-action="override">
                  <value>@{
                    var a = 1;
                    return a +;
                  }</value>
                </set-header>
              </inbound>
            </policies>
            """));

        Assert.All(error.Problems, p => Assert.StartsWith("policy.xml(6,", p, StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("error CS1525", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ElementInWrongSection_Fails()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <forward-request />
              </inbound>
            </policies>
            """));

        Assert.Contains("<forward-request> is not allowed in the inbound section", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingNamedValue_NamesIt()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            "<policies>\n  <inbound>\n    <set-variable name=\"a\" value=\"{{nowhere}}\" />\n  </inbound>\n</policies>", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.StartsWith("policy.xml(3,35): error APIM0001: named value 'nowhere' has no value", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_QuotesInsideAttributeExpression_AreAcceptedAsApiManagementDoes()
    {
        using var document = Load("""
            <policies>
              <inbound>
                <choose>
                  <when condition="@(context.Request.Headers.GetValueOrDefault("x-a", "") == "b")">
                    <set-variable name="matched" value="yes" />
                  </when>
                </choose>
              </inbound>
            </policies>
            """);

        Assert.Equal(1, document.Expressions.Count);
    }

    [Fact]
    public void Load_Document_EmitsOneAssemblyHoldingEveryExpression()
    {
        using var first = Load("""
            <policies>
              <inbound>
                <set-variable name="a" value="@(1)" />
                <set-variable name="b" value="@{ return 2; }" />
                <choose>
                  <when condition="@(true)"><set-variable name="c" value="@("c")" /></when>
                </choose>
              </inbound>
            </policies>
            """);
        using var second = Load("""<policies><inbound><set-variable name="a" value="@(1)" /></inbound></policies>""");

        Assert.Equal(4, first.Expressions.Count);
        var assembly = first.Expressions.Assembly!;
        var methods = assembly.GetTypes().SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)).ToList();
        Assert.Equal(4, methods.Count);
        Assert.True(System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(assembly)!.IsCollectible);
        Assert.NotSame(assembly, second.Expressions.Assembly);
        Assert.Equal(1, second.Expressions.Count);
    }

    [Fact]
    public void Load_MultiLineBlockWithLineComment_KeepsItsNewlines()
    {
        using var document = Load("""
            <policies>
              <inbound>
                <set-variable name="a" value="@{
                  var ids = "a,b".Split(','); // the first id wins
                  return ids[0];
                }" />
              </inbound>
            </policies>
            """);

        Assert.Equal(1, document.Expressions.Count);
    }

    [Fact]
    public void Load_ErrorOnLaterLineOfAttributeBlock_ReportsThatLineAndColumn()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <set-variable name="a" value="@{
                  var ids = "a".Split(',');
                  return ids.Nope;
                }" />
              </inbound>
            </policies>
            """));

        Assert.StartsWith("policy.xml(5,18): error CS1061", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SecondExpressionOnALineAfterQuotes_ReportsItsOwnColumn()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <set-header name="@("x")" exists-action="@(context.Nope)"><value>v</value></set-header>
              </inbound>
            </policies>
            """));

        Assert.Contains(error.Problems, p => p.StartsWith("policy.xml(3,", StringComparison.Ordinal) && p.Contains("exists-action", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MissingReturnInLaterBlock_BlamesThatBlockNotThePreviousOne()
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load("""
            <policies>
              <inbound>
                <set-variable name="a" value="@(1)" />
                <set-variable name="b" value="@{ var x = 1; }" />
              </inbound>
            </policies>
            """));

        Assert.StartsWith("policy.xml(4,", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private static PolicyDocument Load(string text) =>
        PolicyLoader.Load(text, "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>()));
}
