using System.Text.Json;
using MockOpenAI.OpenAI;

namespace MockOpenAI.Tests.OpenAI;

public class TokenCounterTests
{
    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4o-mini", "o200k_base")]
    [InlineData("gpt-4.1", "o200k_base")]
    [InlineData("o3-mini", "o200k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-35-turbo", "cl100k_base")]
    [InlineData("text-embedding-3-small", "cl100k_base")]
    public void ForModel_PicksTheModelsEncoding(string model, string encoding)
    {
        Assert.Equal(encoding, TokenCounter.ForModel(model).Encoding);
    }

    [Theory]
    [InlineData("gpt-4o")]
    [InlineData("gpt-35-turbo")]
    public void CountChat_SystemAndUser_Is19InBothEncodings(string model)
    {
        // 3 priming
        // + 3 framing + "system" (1) + "You| are| a| helpful| assistant|." (6)
        // + 3 framing + "user" (1) + "Hello|!" (2)
        // = 3 + 10 + 6 = 19, the figure Azure OpenAI reports for this classic prompt.
        Assert.Equal(19, CountChat(model, """[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]"""));
    }

    [Fact]
    public void CountChat_NamedJapaneseMessage_O200k()
    {
        // 3 priming + (3 + 1 + 6) for the system message
        // + 3 framing + "user" (1) + "こんにちは|、|世界" (3 in o200k) + "alice" (1) + 1 for having a name = 9
        // = 22.
        Assert.Equal(22, CountChat("gpt-4o", JapaneseConversation));
    }

    [Fact]
    public void CountChat_NamedJapaneseMessage_Cl100k()
    {
        // As for o200k, but cl100k splits "こんにちは、世界" into 5 tokens (世 takes two byte tokens): 3 + 10 + 11 = 24.
        Assert.Equal(24, CountChat("gpt-35-turbo", JapaneseConversation));
    }

    [Fact]
    public void CountChat_ContentParts_CountTheirText()
    {
        // 3 priming + 3 framing + "user" (1) + "Hello|!" (2) = 9, whether the content is a string or one text part.
        Assert.Equal(9, CountChat("gpt-4o", """[{"role":"user","content":[{"type":"text","text":"Hello!"}]}]"""));
    }

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

    private const string JapaneseConversation = """[{"role":"system","content":"You are a helpful assistant."},{"role":"user","name":"alice","content":"こんにちは、世界"}]""";

    private static int CountChat(string model, string messages)
    {
        using var document = JsonDocument.Parse(messages);
        return TokenCounter.ForModel(model).CountChat(document.RootElement);
    }
}
