using Gateway.Policies;

namespace Gateway.Tests.Policies;

public class ExpressionEscaperTests
{
    [Fact]
    public void Escape_QuotesInsideAttributeExpression_AreEscaped()
    {
        var escaped = ExpressionEscaper.Escape("""<when condition="@(context.Variables.ContainsKey("x"))">""").Text;

        Assert.Equal("""<when condition="@(context.Variables.ContainsKey(&quot;x&quot;))">""", escaped);
    }

    [Fact]
    public void Escape_BlockWithCharLiteralAndNewlines_KeepsLinesAndEscapesAll()
    {
        var text = "<set-variable name=\"a\" value=\"@{\n var ids = \"a,b\".Split(',');\n return ids[0] == \"a\" && ids.Length < 3;\n}\" />";

        var escaped = ExpressionEscaper.Escape(text).Text;

        Assert.Equal(text.Count(c => c == '\n'), escaped.Count(c => c == '\n'));
        Assert.Equal("<set-variable name=\"a\" value=\"@{&#10;\n var ids = &quot;a,b&quot;.Split(&apos;,&apos;);&#10;\n return ids[0] == &quot;a&quot; &amp;&amp; ids.Length &lt; 3;&#10;\n}\" />", escaped);
    }

    [Fact]
    public void Escape_ExpressionsAmongLiteralTextInAnAttribute_AreEscaped_AndTheTextKept()
    {
        // As Microsoft's MCP labs write them (AI-Gateway labs/model-context-protocol, labs/mcp-client-authorization).
        var escaped = ExpressionEscaper.Escape("""<set-backend-service base-url="https://@(context.Request.Headers["id"][0]).example.com/@("v" + 1)" /><x key="a-@(v("s"))" />""").Text;

        Assert.Equal("""<set-backend-service base-url="https://@(context.Request.Headers[&quot;id&quot;][0]).example.com/@(&quot;v&quot; + 1)" /><x key="a-@(v(&quot;s&quot;))" />""", escaped);
    }

    [Fact]
    public void Escape_AttributeWithAnAtSignButNoExpression_IsUntouched()
    {
        const string text = """<set-header name="from" exists-action="override"><value>a@b.example</value></set-header><x v="user@(host" w="1" />""";

        Assert.Equal(text, ExpressionEscaper.Escape(text).Text);
    }

    [Fact]
    public void Escape_ExistingEntities_AreLeftAlone()
    {
        Assert.Equal("""<when condition="@(a &amp;&amp; b)">""", ExpressionEscaper.Escape("""<when condition="@(a &amp;&amp; b)">""").Text);
    }

    [Fact]
    public void Escape_GenericsInElementText_AreEscaped()
    {
        var escaped = ExpressionEscaper.Escape("<value>@(context.Variables.GetValueOrDefault<int>(\"n\"))</value>").Text;

        Assert.Equal("<value>@(context.Variables.GetValueOrDefault&lt;int>(&quot;n&quot;))</value>", escaped);
    }

    [Fact]
    public void Escape_PlainText_IsUntouched()
    {
        const string text = "<value>Bearer @token</value><set-variable name=\"a\" value=\"@ b\" />";

        Assert.Equal(text, ExpressionEscaper.Escape(text).Text);
    }

    [Fact]
    public void ToOriginal_ColumnAfterEscapedQuotes_MapsBackToTheFile()
    {
        var escaped = ExpressionEscaper.Escape("""<a x="@("q")" y="1" />""");

        // In the escaped text y sits 10 columns further right (two quotes became &quot;).
        Assert.Equal(15, escaped.ToOriginal(1, 25));
        Assert.Equal(3, escaped.ToOriginal(1, 3));
    }
}
