namespace TokenCounting.Tests;

/// <summary>Long text counts in bounded time, and ordinary text counts exactly as the tokenizer counts it whole.</summary>
public sealed class LongTextTests
{
    private static readonly BytePairEncoding O200k = BytePairEncoding.O200k;

    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog. ")]
    [InlineData("Numbers 1234567 and  double  spaces,\nnew lines\n\tand tabs; don't stop: ")]
    [InlineData("Ünïcödé wörds, 日本語のテキスト, émojis 🙂 and CamelCaseWords ")]
    public void ProseLongerThanAWindow_CountsExactlyAsAWhole(string sentence)
    {
        var text = string.Concat(Enumerable.Repeat(sentence, (3 * LongText.Window / sentence.Length) + 7));

        Assert.Equal(O200k.Count(text), LongText.Count(O200k, text));
    }

    [Fact]
    public void ShortText_IsCountedWhole()
    {
        var word = new string('x', LongText.Window);

        Assert.Equal(O200k.Count(word), LongText.Count(O200k, word));
    }

    [Fact]
    public async Task AMegabyteWithoutASpace_CountsInBoundedTime_CloseToTheWholeCount()
    {
        // Whole, this run takes the encoder hours (quadratic in the word's length); in pieces it is linear.
        var run = new string('x', 2 * 1024 * 1024);

        var count = await Task.Run(() => LongText.Count(O200k, run)).WaitAsync(TimeSpan.FromSeconds(30));

        // 64 letters are 8 tokens of 8 letters, as the whole run would be.
        Assert.Equal(run.Length / 8, count);
    }
}
