using MockOpenAI.OpenAI;

namespace MockOpenAI.Tests.OpenAI;

/// <summary>The mock's embedding model: cosine similarity follows word overlap, so semantic-cache hits can be predicted.</summary>
public class WordOverlapEmbeddingTests
{
    private const int Dimensions = 1536;

    [Theory]
    [InlineData("What is the capital of France?", 1)]
    [InlineData("", 7)]
    [InlineData("?!", 256)]
    [InlineData("Hello", Dimensions)]
    public void Of_IsUnitLength_WithExactlyTheRequestedDimensions(string text, int dimensions)
    {
        var vector = WordOverlapEmbedding.Of(text, dimensions);

        Assert.Equal(dimensions, vector.Length);
        Assert.Equal(1, Math.Sqrt(vector.Sum(v => (double)v * v)), 5);
    }

    [Fact]
    public void Of_FeaturesThatCancelOutInOneDimension_StillGiveAUnitVector()
    {
        // In one dimension every feature adds +w or -w to the same number: three words and two pairs can sum to 0.
        var cancelling = Enumerable.Range(0, 1000).Select(i => $"a{i} b{i} c{i}").First(t => WordOverlapEmbedding.Unscaled(t, 1)[0] == 0);

        Assert.Equal(1, Math.Abs(WordOverlapEmbedding.Of(cancelling, 1)[0]), 5);
    }

    [Fact]
    public void Of_SameText_SameVector()
    {
        Assert.Equal(WordOverlapEmbedding.Of("How do circuit breakers work?", Dimensions), WordOverlapEmbedding.Of("How do circuit breakers work?", Dimensions));
    }

    [Fact]
    public void CaseAndPunctuation_DoNotMatter()
    {
        Assert.Equal(1, Cosine("How do circuit breakers work?", "how do CIRCUIT breakers work"), 5);
    }

    [Fact]
    public void AParaphraseKeepingMostWords_ScoresClose()
    {
        var similarity = Cosine("How do I reset my password?", "How can I reset my password?");

        Assert.InRange(similarity, 0.7, 0.95);
    }

    [Fact]
    public void AnUnrelatedText_ScoresFar()
    {
        var similarity = Cosine("How do I reset my password?", "Summarise the quarterly sales figures for Europe.");

        Assert.InRange(similarity, -0.15, 0.15);
    }

    [Fact]
    public void TheSameWordsInAnotherOrder_ShareTheWordsButNotThePairs()
    {
        // 5 words in common, 0 pairs in common: 5 / (5 + 4 x 0.25) = 0.83.
        var similarity = Cosine("red green blue yellow black", "black yellow blue green red");

        Assert.Equal(5.0 / (5 + (4 * 0.25)), similarity, 2);
    }

    [Fact]
    public void Words_AreRunsOfLettersAndDigits_LowerCased()
    {
        Assert.Equal(["gpt", "4o", "is", "fast", "été"], WordOverlapEmbedding.Words("GPT-4o is fast, Été!"));
    }

    private static double Cosine(string a, string b)
    {
        var x = WordOverlapEmbedding.Of(a, Dimensions);
        var y = WordOverlapEmbedding.Of(b, Dimensions);
        return x.Zip(y).Sum(p => (double)p.First * p.Second);
    }
}
