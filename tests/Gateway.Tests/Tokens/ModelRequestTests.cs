using System.Text;
using Gateway.Tokens;

namespace Gateway.Tests.Tokens;

public class ModelRequestTests
{
    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"Hello world"}]}""", "gpt-4o", 9)]
    [InlineData("""{"messages":[{"role":"user","content":"Hello world","name":"ann"}]}""", "gpt-35-turbo", 11)]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":"Hello world"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}""", "gpt-4o", 1209)]
    [InlineData("""{"prompt":"Hello world"}""", "gpt-35-turbo-instruct", 2)]
    [InlineData("""{"input":["Hello world","Hello"]}""", "text-embedding-3-small", 3)]
    [InlineData("""{"input":[[1,2,3],[4]]}""", "text-embedding-3-small", 4)]
    [InlineData("""{"model":"gpt-4o","input":"Hello world","instructions":"Hello"}""", null, 3)]
    [InlineData("""[1,2]""", "gpt-4o", 0)]
    [InlineData("not json", "gpt-4o", 0)]
    public void PromptTokens_FollowTheShapeOfTheRequest(string body, string? deployment, int tokens)
    {
        var request = ModelRequest.Parse(Encoding.UTF8.GetBytes(body), deployment);

        Assert.Equal(tokens, request.PromptTokens);
    }

    [Theory]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":true}}""", true, true)]
    [InlineData("""{"stream":true}""", true, false)]
    [InlineData("""{"stream":false,"stream_options":{"include_usage":true}}""", false, false)]
    [InlineData("", false, false)]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":true}} x""", false, false)]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":true},"messages":[{"content":"unclosed"}""", false, false)]
    [InlineData("""{"stream":true,"stream":false}""", false, false)]
    [InlineData("""{"stream":false,"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}""", true, true)]
    [InlineData("""{"stream":"true","stream_options":{"include_usage":true}}""", false, false)]
    [InlineData("""{"stre\u0061m":true,"stream_options":{"nested":{"include_usage":false},"include_usage":true}}""", true, true)]
    [InlineData("""{"stream":true,"stream_options":[{"include_usage":true}]}""", true, false)]
    [InlineData("""[{"stream":true}]""", false, false)]
    public void StreamFlags_AreReadFromTheBody(string body, bool stream, bool includeUsage)
    {
        var request = ModelRequest.Parse(Encoding.UTF8.GetBytes(body), "gpt-4o");

        Assert.Equal(stream, request.Stream);
        Assert.Equal(includeUsage, request.IncludeUsage);
    }

    [Theory]
    [InlineData("""{"model":"gpt-35-turbo","messages":[]}""", "gpt-35-turbo")]
    [InlineData("""{"model":"gpt-4o","model":"gpt-35-turbo","messages":[]}""", "gpt-35-turbo")]
    [InlineData("""{"model":"gpt-35-turbo","model":7,"messages":[]}""", "gpt-4o")]
    [InlineData("""{"messages":[],"nested":{"model":"gpt-35-turbo"}}""", "gpt-4o")]
    [InlineData("""{"model":"gpt-35-turbo","messages":[]} trailing""", "gpt-4o")]
    [InlineData("""{"model":"\ud800","model":"gpt-35-turbo","messages":[]}""", "gpt-35-turbo")]
    [InlineData("""{"model":"gpt-35-turbo","model":"\ud800","messages":[]}""", "gpt-4o")]
    [InlineData("""{"model":"gpt-35-\u0074urbo","messages":[]}""", "gpt-35-turbo")]
    public void Model_IsTheLastStringNamedInTheBody_OrElseTheDeployment(string body, string counted)
    {
        var request = ModelRequest.Parse(Encoding.UTF8.GetBytes(body), "gpt-4o");

        // One counter per encoding: gpt-35-turbo counts with cl100k_base, gpt-4o with o200k_base.
        Assert.Same(TokenCounting.TokenCounter.ForModel(counted), request.Counter);
    }
}
