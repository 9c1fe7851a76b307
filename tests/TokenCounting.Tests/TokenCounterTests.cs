namespace TokenCounting.Tests;

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
    [InlineData(null, "cl100k_base")]
    public void ForModel_PicksTheModelsEncoding(string? model, string encoding)
    {
        Assert.Equal(encoding, TokenCounter.ForModel(model).Encoding);
    }

    [Fact]
    public void Count_EmptyText_IsZero()
    {
        Assert.Equal(0, TokenCounter.ForModel("gpt-4o").Count(string.Empty));
    }

    [Theory]
    [InlineData("gpt-4o", "Hello world, how are you?")]
    [InlineData("gpt-35-turbo", "こんにちは、世界")]
    public void Pieces_JoinBackIntoTheText_OnePerTokenStart(string model, string text)
    {
        var counter = TokenCounter.ForModel(model);

        var pieces = counter.Pieces(text);

        Assert.Equal(text, string.Concat(pieces));
        Assert.InRange(pieces.Count, 1, counter.Count(text));
    }
}
