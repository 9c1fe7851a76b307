using System.Text.RegularExpressions;

namespace MockContentSafety.Analysis;

/// <summary>
/// How a blocklist item finds itself in a text: a text item as whole words in any case
/// (<see cref="TextVerdicts.WholeWord"/>); a regular-expression item (<c>isRegex</c>) anywhere in the text, in any case.
/// A regular expression comes from the caller, so each match has <see cref="MatchTimeout"/> to finish (its text is at
/// most 128 characters, the analyzed text at most 10,000).
/// </summary>
internal static class BlocklistPatterns
{
    /// <summary>How long one regular-expression item may take on one text before it counts as not matching.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>The pattern of a text item.</summary>
    public static Regex ForText(string text) => TextVerdicts.WholeWord(text);

    /// <summary>The pattern of a regular-expression item; null when <paramref name="expression"/> is not a valid .NET regular expression.</summary>
    public static Regex? ForRegex(string expression)
    {
        try
        {
            return new Regex(expression, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="pattern"/> finds itself in <paramref name="text"/>; false when it runs out of time.</summary>
    public static bool Matches(Regex pattern, string text)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
