using System.Text;
using Gateway.Tokens;

namespace Gateway.Tests.Tokens;

public sealed class UsageJsonTests
{
    private static readonly ModelRequest Request = ModelRequest.Parse("""{"messages":[{"role":"user","content":"Hello!"}]}"""u8.ToArray(), "gpt-4o");

    private static TokenUsage? Read(string body) => UsageJson.FromBody(Encoding.UTF8.GetBytes(body), "application/json", Request);

    [Fact]
    public void AChatCompletion_ReportsItsUsage_WhereverUsageSits()
    {
        Assert.Equal(new TokenUsage(9, 12, 21, Estimated: false), Read("""{"id":"x","usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21},"choices":[{"message":{"content":"{\"usage\":1}"}}]}"""));
        Assert.Equal(new TokenUsage(9, 12, 21, Estimated: false), Read("""{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"}}],"usage":{"completion_tokens":12,"prompt_tokens":9,"total_tokens":21}}"""));
    }

    [Fact]
    public void AnEmbedding_HasNoCompletion_AndAMissingTotalIsTheSum()
    {
        Assert.Equal(new TokenUsage(5, 0, 5, Estimated: false), Read("""{"data":[],"usage":{"prompt_tokens":5,"total_tokens":5}}"""));
        Assert.Equal(new TokenUsage(5, 7, 12, Estimated: false), Read("""{"usage":{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":0}}}"""));
    }

    [Fact]
    public void AResponse_ReportsInputAndOutputTokens_AlsoInsideResponse()
    {
        Assert.Equal(new TokenUsage(11, 3, 14, Estimated: false), Read("""{"object":"response","usage":{"input_tokens":11,"output_tokens":3,"total_tokens":14}}"""));
        Assert.Equal(new TokenUsage(11, 3, 14, Estimated: false), Read("""{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":11,"output_tokens":3,"total_tokens":14}}}"""));
    }

    [Fact]
    public void AUsageThatIsNotAnObject_FallsBackToTheResponses()
    {
        Assert.Equal(new TokenUsage(2, 1, 3, Estimated: false), Read("""{"usage":null,"response":{"usage":{"input_tokens":2,"output_tokens":1}}}"""));
        Assert.Null(Read("""{"usage":null}"""));
    }

    [Theory]
    [InlineData("""{"usage":{"completion_tokens":3}}""")]
    [InlineData("""{"usage":{"prompt_tokens":"9"}}""")]
    [InlineData("""[{"usage":{"prompt_tokens":9}}]""")]
    [InlineData("""{"usage":{"prompt_tokens":9},""")]
    [InlineData("not json")]
    [InlineData("")]
    public void NoPromptCount_OrABodyThatIsNotAJsonObject_IsNoUsage(string body)
    {
        Assert.Null(Read(body));
    }

    [Fact]
    public void WhatFollowsTheObject_IsNotRead() =>
        Assert.Equal(new TokenUsage(9, 0, 9, Estimated: false), Read("""{"usage":{"prompt_tokens":9}},{"""));
}
