using Gateway.ContentSafety;

namespace Gateway.Tests.ContentSafety;

public sealed class TextWindowsTests
{
    [Theory]
    [InlineData("abcdefghij", 4, 0, "abcd|efgh|ij")]
    [InlineData("abcdefghij", 4, 1, "abcd|defg|ghij")]
    [InlineData("abcdefghij", 4, 3, "abcd|bcde|cdef|defg|efgh|fghi|ghij")]
    [InlineData("abcdefghij", 10, 2, "abcdefghij")]
    [InlineData("abcdefghij", 50, 0, "abcdefghij")]
    [InlineData("abc", 1, 0, "a|b|c")]
    public void Of_CutsWindowsOfTheSizeEachStartingSizeMinusOverlapAfterTheLast(string text, int size, int overlap, string expected)
    {
        var windows = TextWindows.Of(text, size, overlap).Select(w => text[w.Start..w.End]);

        Assert.Equal(expected, string.Join('|', windows));
    }

    [Fact]
    public void Of_AnEmptyText_HasNoWindow() => Assert.Empty(TextWindows.Of(string.Empty, 4, 1));

    [Fact]
    public void Of_NeverSplitsASurrogatePair()
    {
        // "ab😀cd": the emoji is two UTF-16 code units, at 2 and 3.
        var text = "ab\U0001F600cd";

        var windows = TextWindows.Of(text, 3, 0).Select(w => text[w.Start..w.End]).ToList();

        Assert.Equal(["ab\U0001F600", "cd"], windows);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(4, 4)]
    [InlineData(4, -1)]
    public void Of_RefusesASizeBelowOneOrAnOverlapOutsideZeroToSizeMinusOne(int size, int overlap) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TextWindows.Of("text", size, overlap).ToList());
}
