using System.Text.Json;

namespace TokenCounting.Tests;

public class ApimPromptEstimateTests
{
    [Theory]
    [InlineData("image_url", """{"url":"https://example.com/a.png"}""")]
    [InlineData("input_image", "\"https://example.com/a.png\"")]
    public void Count_ImagePart_IsApiManagementsFlatRate(string type, string image)
    {
        // 3 priming + 3 framing + "user" (1) + 1200 for the image, whatever its size or URL.
        var body = $$"""{"messages":[{"role":"user","content":[{"type":"{{type}}","image_url":{{image}}}]}]}""";

        Assert.Equal(7 + ApimPromptEstimate.TokensPerImage, Count("gpt-4o", body));
    }

    [Fact]
    public void Count_ResponsesInputItems_HaveNoReplyPrimingAndNoNameToken()
    {
        // A message item is 3 framing + "user" (1) + "ann" (1) + "Hello| world" (2): 7, where the same chat message is
        // 3 priming + 7 + 1 for the name = 11.
        Assert.Equal(7, Count("gpt-35-turbo", """{"input":[{"role":"user","name":"ann","content":"Hello world"}]}"""));
        Assert.Equal(11, Count("gpt-35-turbo", """{"messages":[{"role":"user","name":"ann","content":"Hello world"}]}"""));
    }

    [Fact]
    public void Count_ResponsesInputImage_IsApiManagementsFlatRate()
    {
        // 3 framing + "user" (1) + "Hello" (1) + 1200 for the image.
        const string body = """{"input":[{"role":"user","content":[{"type":"input_text","text":"Hello"},{"type":"input_image","image_url":"https://example.com/a.png"}]}]}""";

        Assert.Equal(5 + ApimPromptEstimate.TokensPerImage, Count("gpt-4o", body));
    }

    [Theory]
    [InlineData("""{"prompt":[[1,2,3],[4,5]]}""", 5)]
    [InlineData("""{"prompt":[1,2,3]}""", 3)]
    [InlineData("""{"prompt":["Hello world","Hello"],"instructions":"Hello"}""", 4)]
    [InlineData("""{"prompt":{"text":"Hello"}}""", 0)]
    [InlineData("""[{"role":"user","content":"Hello"}]""", 0)]
    [InlineData("\"Hello\"", 0)]
    public void Count_OtherShapes_TokenIdsOneEach_TextByTheTokenizer(string body, int tokens)
    {
        Assert.Equal(tokens, Count("gpt-35-turbo-instruct", body));
    }

    private static int Count(string model, string body)
    {
        using var document = JsonDocument.Parse(body);
        return ApimPromptEstimate.Count(TokenCounter.ForModel(model), document.RootElement);
    }
}
