using Gateway.Apim;
using Gateway.Policies;

namespace Gateway.Tests.Expressions;

public class AllowedTypesTests
{
    [Theory]
    [InlineData("""System.IO.File.ReadAllText("/etc/passwd")""", "System.IO.File")]
    [InlineData("""System.Environment.GetEnvironmentVariable("SECRET")""", "System.Environment")]
    [InlineData("""new System.Net.Http.HttpClient().GetHashCode()""", "System.Net.Http.HttpClient")]
    [InlineData("""context.GetType().Assembly.FullName""", "System.Type")]
    public void Load_TypeOutsideTheList_IsRefusedWhereItIsUsed(string code, string type)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($$"""
            <policies>
              <inbound>
                <set-variable name="ok" value="@(1)" />
                <set-variable name="bad" value="@({{code}})" />
              </inbound>
            </policies>
            """));

        Assert.Contains(error.Problems, p => p.StartsWith("policy.xml(4,", StringComparison.Ordinal) && p.Contains($"error APIM0005: type '{type}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""JObject.Parse("{}").ToString()""")]
    [InlineData("""Regex.IsMatch("abc", "b")""")]
    [InlineData("""new List<string> { "a" }.Select(s => s.ToUpperInvariant()).First()""")]
    [InlineData("""Math.Min(1, 2) + new Random(1).Next(3) + DateTime.UtcNow.Year""")]
    [InlineData("""Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("x"))""")]
    [InlineData("""context.Request.Headers.GetValueOrDefault("a", "b")""")]
    public void Load_AllowedTypes_Compile(string code)
    {
        using var document = Load($$"""<policies><inbound><set-variable name="v" value="@({{code}})" /></inbound></policies>""");

        Assert.Equal(1, document.Expressions.Count);
    }

    private static PolicyDocument Load(string text) => PolicyLoader.Load(text, "policy.xml", "api", new NamedValues(new Dictionary<string, string?>()));
}
