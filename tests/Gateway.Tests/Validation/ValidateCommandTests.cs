using Gateway.Tests.Support;
using Gateway.Validation;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Validation;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("validate-").FullName;

    [Fact]
    public void Run_ShippedPolicy_HasNoErrorAndNoWarning()
    {
        var (exit, output) = Validate(Path.Combine(TestApim.RepoApimPath, "apis", "azure-openai", "policy.xml"), "--named-value", "managed-identity-client-id=x");

        Assert.Equal(0, exit);
        Assert.EndsWith("1 file(s): 0 error(s), 0 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ArticlesPolicy_WarnsThatItNeverForwards()
    {
        var file = Write("article.xml", """
            <policies>
              <inbound>
                <authentication-managed-identity resource="https://cognitiveservices.azure.com" output-token-variable-name="msi-access-token" client-id="{{managed-identity-client-id}}" ignore-error="false" />
              </inbound>
              <backend>
                <choose>
                  <when condition="@(true)">
                    <set-backend-service base-url="https://a.openai.azure.com/openai" />
                  </when>
                </choose>
              </backend>
            </policies>
            """);

        var (exit, output) = Validate(file, "--named-value", "managed-identity-client-id=x");

        Assert.Equal(0, exit);
        Assert.Contains($"{file}(5,4): warning APIM1001: the backend section never reaches a forward-request", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BufferedAndRetriedWithoutBody_WarnsForEach()
    {
        var file = Write("retry.xml", """
            <policies>
              <backend>
                <retry condition="@(context.Response.StatusCode == 429)" count="3" interval="1">
                  <forward-request />
                </retry>
              </backend>
            </policies>
            """);

        var (exit, output) = Validate(file);

        Assert.Equal(0, exit);
        Assert.Contains($"{file}(4,8): warning APIM1002:", output, StringComparison.Ordinal);
        Assert.Contains($"{file}(4,8): warning APIM1003:", output, StringComparison.Ordinal);
        Assert.EndsWith("1 file(s): 0 error(s), 2 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_LiteralVariableReadAsANumber_Warns()
    {
        var file = Write("cast.xml", """
            <policies>
              <inbound>
                <set-variable name="retries" value="1" />
                <set-variable name="typed" value="@(2)" />
                <choose>
                  <when condition="@((int)context.Variables["retries"] > 0 &amp;&amp; context.Variables.GetValueOrDefault<int>("typed") > 1)">
                    <return-response />
                  </when>
                </choose>
              </inbound>
            </policies>
            """);

        var (exit, output) = Validate(file);

        Assert.Equal(0, exit);
        Assert.Contains($"warning APIM1004: variable 'retries' is set from a literal at {file}(3,6)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("variable 'typed'", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ErrorsInOneOfTwoFiles_ReportsEachAndFails()
    {
        var good = Write("good.xml", """<policies><backend><forward-request buffer-response="false" /></backend></policies>""");
        var bad = Write("bad.xml", "<policies>\n  <inbound>\n    <set-variable name=\"a\" value=\"@(context.Nope)\" />\n    <oops />\n  </inbound>\n</policies>");

        var (exit, output) = Validate(good, bad);

        Assert.Equal(1, exit);
        Assert.Contains($"{bad}(4,6): error APIM0003: unknown policy element <oops>", output, StringComparison.Ordinal);
        Assert.EndsWith("2 file(s): 1 error(s), 0 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""<rate-limiter calls="1" />""", "(3,6): error APIM0003: unknown policy element <rate-limiter>")]
    [InlineData("""<set-variable name="a" value="1" scope="request" />""", "(3,38): error APIM0004: unknown attribute 'scope' on <set-variable>")]
    [InlineData("""<set-variable name="a" value="@(System.IO.File.ReadAllText("x"))" />""", "error APIM0005: type 'System.IO.File' is not allowed in policy expressions")]
    [InlineData("""<set-variable name="a" value="@(1 +)" />""", "error CS1525: Invalid expression term ')'")]
    public void Run_EachKindOfLoadError_IsReportedWithFileLineAndReason(string element, string expected)
    {
        var file = Write("errors.xml", $$"""
            <policies>
              <inbound>
                {{element}}
              </inbound>
            </policies>
            """);

        var (exit, output) = Validate(file);

        Assert.Equal(1, exit);
        var line = output.Split('\n')[0];
        Assert.StartsWith(file + "(3,", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains("1 file(s): ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingNamedValue_IsAnErrorUnlessGivenOnTheCommandLine()
    {
        var file = Write("named.xml", """<policies><inbound><set-variable name="a" value="{{team-secret}}" /></inbound></policies>""");

        Assert.Equal(1, Validate(file).Exit);
        Assert.Equal(0, Validate(file, "--named-value", "team-secret=s3").Exit);
    }

    [Theory]
    [InlineData]
    [InlineData("--bogus")]
    public void Run_NoFileOrUnknownOption_ExitsWithUsage(params string[] args)
    {
        var output = new StringWriter();

        Assert.Equal(2, ValidateCommand.Run(args, new ConfigurationBuilder().Build(), output));
        Assert.Contains("usage: validate <policy.xml>...", output.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Run_FileInAnotherApimFolder_UsesThatFoldersNamedValuesAndFragments()
    {
        Write("named-values.json", """{ "namedValues": [ { "name": "greeting", "value": "hello" } ] }""");
        Directory.CreateDirectory(Path.Combine(_folder, "fragments"));
        var fragment = Write(Path.Combine("fragments", "greet.xml"), """
            <fragment>
              <set-header name="x-greeting" exists-action="override"><value>{{greeting}}</value></set-header>
            </fragment>
            """);
        var policy = Write("policy.xml", """<policies><inbound><include-fragment fragment-id="greet" /></inbound></policies>""");

        var (exit, output) = Validate(policy, fragment);

        Assert.Equal(0, exit);
        Assert.EndsWith("2 file(s): 0 error(s), 0 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Fragment_ReportsItsOwnMistakesAtItsOwnLines()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "fragments"));
        var csharp = Write(Path.Combine("fragments", "csharp.xml"), """
            <fragment>
              <set-variable name="n" value="@(Math.Ceilingg(1.5))" />
            </fragment>
            """);
        var attribute = Write(Path.Combine("fragments", "attribute.xml"), """
            <fragment>
              <set-variable name="n" value="1" />
              <set-header name="x" exists-action="delete" colour="red" />
            </fragment>
            """);
        Write("topology.json", "{}");

        var (exit, output) = Validate(csharp, attribute);

        Assert.Equal(1, exit);
        Assert.Contains($"{csharp}(2,", output, StringComparison.Ordinal);
        Assert.Contains("error CS0117: 'Math' does not contain a definition for 'Ceilingg'", output, StringComparison.Ordinal);
        Assert.Contains($"{attribute}(3,", output, StringComparison.Ordinal);
        Assert.Contains("error APIM0004: unknown attribute 'colour' on <set-header>", output, StringComparison.Ordinal);
        Assert.EndsWith("2 file(s): 2 error(s), 0 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_FragmentOnlyValidInAProductScope_IsAccepted()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "fragments"));
        var fragment = Write(Path.Combine("fragments", "product-quota.xml"), """<fragment><quota calls="100" renewal-period="3600" /></fragment>""");
        Write("topology.json", "{}");

        var (exit, output) = Validate(fragment);

        Assert.Equal(0, exit);
        Assert.EndsWith("1 file(s): 0 error(s), 0 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_FragmentOnlyValidInBackend_IsAccepted()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "fragments"));
        var fragment = Write(Path.Combine("fragments", "forward.xml"), """<fragment><forward-request buffer-request-body="true" buffer-response="false" /></fragment>""");
        Write("topology.json", "{}");

        var (exit, output) = Validate(fragment);

        Assert.Equal(0, exit);
        Assert.EndsWith("1 file(s): 0 error(s), 0 warning(s)", output.TrimEnd(), StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Exit, string Output) Validate(params string[] args)
    {
        var output = new StringWriter();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Apim:Path"] = TestApim.RepoApimPath }).Build();
        var exit = ValidateCommand.Run(args, configuration, output);
        return (exit, output.ToString());
    }
}
