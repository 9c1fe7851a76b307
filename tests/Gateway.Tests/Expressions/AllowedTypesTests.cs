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
    [InlineData("""DateTime.UtcNow.ToBinary()""", "System.DateTime' member 'ToBinary")]
    [InlineData("""DateTime.ParseExact("2024", "yyyy", null).Year""", "System.DateTime' member 'ParseExact")]
    [InlineData("""DateTime.UtcNow.Kind.ToString()""", "System.DateTime' member 'Kind")]
    [InlineData("""Newtonsoft.Json.JsonConvert.ToString(1)""", "Newtonsoft.Json.JsonConvert' member 'ToString")]
    [InlineData("""Regex.Escape("a.b")""", "System.Text.RegularExpressions.Regex' member 'Escape")]
    [InlineData("""Regex.Match("ab", "b").NextMatch().Success""", "System.Text.RegularExpressions.Match' member 'NextMatch")]
    [InlineData("""System.Xml.Linq.XDocument.Load("/etc/passwd").ToString()""", "System.Xml.Linq.XDocument' member 'Load")]
    public void Load_MemberOutsideAnAllowedTypesMembers_IsRefused(string code, string member)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($$"""
            <policies>
              <inbound>
                <set-variable name="bad" value="@({{code}})" />
              </inbound>
            </policies>
            """));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("policy.xml(3,", problem, StringComparison.Ordinal);
        Assert.Contains($"error APIM0005: type '{member}' is not allowed in policy expressions", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""new DateTime(2024, 1, 1).AddDays(1).Subtract(DateTime.UtcNow).TotalSeconds > 0""")]
    [InlineData("""DateTime.Parse("2024-01-01").ToString("o") + DateTime.UtcNow.Ticks""")]
    [InlineData("""Regex.Match("a1", @"(?<d>\d)").Groups["d"].Value + Regex.Match("a", "a").Success + Regex.Matches("aa", "a").Count""")]
    [InlineData("""new Regex("a").Replace("abc", "x") + Regex.Split("a,b", ",").Length""")]
    [InlineData("""Newtonsoft.Json.JsonConvert.SerializeObject(new { a = 1 }) + Newtonsoft.Json.JsonConvert.DeserializeObject<JObject>("{}").Count""")]
    [InlineData("""System.Xml.Linq.XDocument.Parse("<a/>").Root.Name.LocalName""")]
    public void Load_AllowedMembersOfLimitedTypes_Compile(string code)
    {
        using var document = Load($$"""<policies><inbound><set-variable name="v" value="@({{code}})" /></inbound></policies>""");

        Assert.Equal(1, document.Expressions.Count);
    }

    [Theory]
    [InlineData("""JObject.Parse("{}").ToString()""")]
    [InlineData("""Regex.IsMatch("abc", "b")""")]
    [InlineData("""new List<string> { "a" }.Select(s => s.ToUpperInvariant()).First()""")]
    [InlineData("""Math.Min(1, 2) + new Random(1).Next(3) + DateTime.UtcNow.Year""")]
    [InlineData("""Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("x"))""")]
    [InlineData("""context.Request.Headers.GetValueOrDefault("a", "b")""")]
    [InlineData("""Convert.ToBase64String(Encoding.UTF8.GetBytes("s").Encrypt("Aes", new byte[32], new byte[16]).Decrypt("Aes", new byte[32], new byte[16]))""")]
    public void Load_AllowedTypes_Compile(string code)
    {
        using var document = Load($$"""<policies><inbound><set-variable name="v" value="@({{code}})" /></inbound></policies>""");

        Assert.Equal(1, document.Expressions.Count);
    }

    private static PolicyDocument Load(string text) => PolicyLoader.Load(text, "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>()));
}
