using System.Text.Json;

namespace TokenCounting.Tests;

public class AzureOpenAIPromptBillingTests
{
    [Theory]
    [InlineData("gpt-4o")]
    [InlineData("gpt-35-turbo")]
    public void Messages_SystemAndUser_Is19InBothEncodings(string model)
    {
        // 3 priming
        // + 3 framing + "system" (1) + "You| are| a| helpful| assistant|." (6)
        // + 3 framing + "user" (1) + "Hello|!" (2)
        // = 3 + 10 + 6 = 19, the figure Azure OpenAI reports for this classic prompt.
        Assert.Equal(19, Messages(model, """[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]"""));
    }

    [Fact]
    public void Messages_NamedJapaneseMessage_O200k()
    {
        // 3 priming + (3 + 1 + 6) for the system message
        // + 3 framing + "user" (1) + "こんにちは|、|世界" (3 in o200k) + "alice" (1) + 1 for having a name = 9
        // = 22.
        Assert.Equal(22, Messages("gpt-4o", JapaneseConversation));
    }

    [Fact]
    public void Messages_NamedJapaneseMessage_Cl100k()
    {
        // As for o200k, but cl100k splits "こんにちは、世界" into 5 tokens (世 takes two byte tokens): 3 + 10 + 11 = 24.
        Assert.Equal(24, Messages("gpt-35-turbo", JapaneseConversation));
    }

    [Fact]
    public void Messages_ContentParts_CountTheirText()
    {
        // 3 priming + 3 framing + "user" (1) + "Hello|!" (2) = 9, whether the content is a string or one text part.
        Assert.Equal(9, Messages("gpt-4o", """[{"role":"user","content":[{"type":"text","text":"Hello!"}]}]"""));
    }

    [Fact]
    public void Messages_ImagePart_CountsItsJson_NotApiManagementsFlatRate()
    {
        const string image = """{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}""";
        var counter = TokenCounter.ForModel("gpt-4o");

        // 3 priming + 3 framing + "user" (1) + the part's JSON.
        Assert.Equal(7 + counter.Count(image), Messages("gpt-4o", $$"""[{"role":"user","content":[{{image}}]}]"""));
    }

    private const string JapaneseConversation = """[{"role":"system","content":"You are a helpful assistant."},{"role":"user","name":"alice","content":"こんにちは、世界"}]""";

    private static int Messages(string model, string messages)
    {
        using var document = JsonDocument.Parse(messages);
        return AzureOpenAIPromptBilling.Messages(TokenCounter.ForModel(model), document.RootElement);
    }
}
