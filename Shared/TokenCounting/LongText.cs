namespace TokenCounting;

/// <summary>
/// Counts long text in bounded time. Byte-pair encoding costs the square of a word's length (64,000 letters without a
/// space take seconds, a 20 MiB one hours), so text longer than <see cref="Window"/> is counted in segments: cut
/// where a letter or digit meets a space (where the tokenizer's own pre-tokenizer cuts, so ordinary text counts
/// exactly as a whole), or, in a window with no such place, every <see cref="RunPiece"/> characters (such a run is a
/// blob, not language; its count is then an estimate within a token per piece).
/// </summary>
internal static class LongText
{
    public const int Window = 8192;

    public const int RunPiece = 64;

    public static int Count(BytePairEncoding encoding, string text)
    {
        if (text.Length <= Window)
        {
            return encoding.Count(text);
        }

        var total = 0;
        var start = 0;
        while (start < text.Length)
        {
            var end = Math.Min(start + Window, text.Length);
            if (end < text.Length)
            {
                var cut = end;
                while (cut > start && !(text[cut] == ' ' && char.IsLetterOrDigit(text[cut - 1])))
                {
                    cut--;
                }

                if (cut == start)
                {
                    for (; start < end; start += RunPiece)
                    {
                        total += encoding.Count(text.AsSpan(start, Math.Min(RunPiece, end - start)));
                    }

                    continue;
                }

                end = cut;
            }

            total += encoding.Count(text.AsSpan(start, end - start));
            start = end;
        }

        return total;
    }
}
