using System.Text;
using Gateway.Caching;

namespace Gateway.Tests.Caching;

public sealed class SemanticCachePromptTests
{
    [Theory]
    [InlineData("""{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"there"}]}]}""", false, null, "Be brief.\nHello there")]
    [InlineData("""{"messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"In French."},{"role":"user","content":"Hello"}]}""", true, null, "Hello")]
    [InlineData("""{"prompt":"Say hi"}""", true, null, "Say hi")]
    [InlineData("""{"prompt":["Say","hi"]}""", false, null, "Say hi")]
    [InlineData("""{"model":"gpt-4o","instructions":"Be brief.","input":"Hello"}""", false, null, "Be brief.\nHello")]
    [InlineData("""{"model":"gpt-4o","instructions":"Be brief.","input":[{"role":"developer","content":"In French."},{"role":"user","content":[{"type":"input_text","text":"Hello"}]}]}""", true, null, "Hello")]
    [InlineData("""{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}""", false, 2, "a\nb")]
    [InlineData("""{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}""", false, 2, null)]
    [InlineData("""{"messages":[{"role":"user","content":"a"}],"stream":true}""", false, null, null)]
    [InlineData("""{"messages":[]}""", false, null, null)]
    [InlineData("""not json""", false, null, null)]
    public void Text_EachRequestShape_GivesTheTextToEmbed(string body, bool ignoreSystemMessages, int? maxMessageCount, string? expected)
    {
        Assert.Equal(expected, SemanticCachePrompt.Text(Encoding.UTF8.GetBytes(body), ignoreSystemMessages, maxMessageCount));
    }
}
