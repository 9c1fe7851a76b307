using System.Text.Json;
using MockOpenAI.OpenAI;
using TokenCounting;

namespace MockOpenAI.Tests.OpenAI;

/// <summary>The mock's own token counts: generated words, completion limits, embeddings input (the prompt rule's tests are in TokenCounting.Tests).</summary>
public class TokenCountTests
{
    [Fact]
    public void Words_AreEachOneTokenAloneAndAfterASpace_InBothEncodings()
    {
        foreach (var counter in new[] { TokenCounter.ForModel("gpt-4o"), TokenCounter.ForModel("gpt-4") })
        {
            Assert.All(SyntheticText.Words, word =>
            {
                Assert.Equal(1, counter.Count(word));
                Assert.Equal(1, counter.Count(" " + word));
            });
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(4096)]
    public void Parse_CompletionTokens_NeverExceedTheLimit(int limit)
    {
        var json = $$"""{"messages":[{"role":"user","content":"Tell me everything."}],"max_tokens":{{limit}}}""";
        using var body = JsonDocument.Parse(json);

        var request = ChatCompletions.Parse(body.RootElement, json, TokenCounter.ForModel("gpt-4o"));

        Assert.True(request.CompletionTokens <= limit);
        Assert.Equal(Math.Min(limit, GenerationRequest.DefaultCompletionTokens), request.CompletionTokens);
    }

    [Theory]
    [InlineData("""{"input":[1,2,3]}""", 1, 3)]
    [InlineData("""{"input":[[1,2,3],[4,5]]}""", 2, 5)]
    [InlineData("""{"input":["Hello!","You are a helpful assistant."]}""", 2, 8)]
    public void Create_Embeddings_CountStringsByTokenizerAndTokenArraysByLength(string json, int vectors, int tokens)
    {
        using var body = JsonDocument.Parse(json);

        var result = JsonDocument.Parse(Embeddings.Render(Embeddings.Parse(body.RootElement, 1536, TokenCounter.ForModel("text-embedding-3-small")), "text-embedding-3-small")).RootElement;

        Assert.Equal(vectors, result.GetProperty("data").GetArrayLength());
        Assert.Equal(tokens, result.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }
}
