namespace Gateway.ContentSafety;

/// <summary>
/// How <c>window-size</c> and <c>window-overlap-size</c> cut a text: windows of <c>size</c> characters, each starting
/// <c>size - overlap</c> characters after the one before, until one reaches the end (the last one may be shorter).
/// Characters are UTF-16 code units, and a surrogate pair is never split: a boundary inside one moves after it.
/// </summary>
internal static class TextWindows
{
    /// <summary>The windows of <paramref name="text"/> as [start, end) ranges; none for an empty text.</summary>
    public static IEnumerable<(int Start, int End)> Of(string text, int size, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlap, size);
        var start = 0;
        while (start < text.Length)
        {
            var end = End(text, start, size);
            yield return (start, end);
            if (end == text.Length)
            {
                yield break;
            }

            start = End(text, start, size - overlap);
        }
    }

    /// <summary>Where in <paramref name="text"/> a window of <paramref name="size"/> that starts at <paramref name="start"/> ends.</summary>
    public static int End(string text, int start, int size)
    {
        var end = (int)Math.Min((long)start + size, text.Length);
        return end > 0 && end < text.Length && char.IsLowSurrogate(text[end]) && char.IsHighSurrogate(text[end - 1]) ? end + 1 : end;
    }
}
