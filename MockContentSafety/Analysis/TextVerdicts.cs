using System.Text.RegularExpressions;

namespace MockContentSafety.Analysis;

/// <summary>
/// The mock's deterministic classifier, so that tests and people can predict every verdict (docs/content-safety.md):
/// each category has a few trigger words scoring 2, 4 or 6 and markers <c>mock-&lt;category&gt;-&lt;n&gt;</c> scoring
/// exactly n (0 to 7); a category's severity is the highest trigger in the text, matched as whole words in any case.
/// With <c>FourSeverityLevels</c> a severity is rounded down to an even level (5 is reported as 4). Prompt Shields
/// detects an attack when a text holds one of <see cref="JailbreakPhrases"/>.
/// </summary>
internal static partial class TextVerdicts
{
    /// <summary>The harm categories, in the order the service reports them when a request names none.</summary>
    public static readonly string[] Categories = ["Hate", "SelfHarm", "Sexual", "Violence"];

    /// <summary>The words that score a category, with their severity (on the eight-level scale).</summary>
    public static readonly IReadOnlyDictionary<string, (string Word, int Severity)[]> TriggerWords = new Dictionary<string, (string, int)[]>(StringComparer.Ordinal)
    {
        ["Hate"] = [("contempt", 2), ("inferior", 4), ("subhuman", 6)],
        ["SelfHarm"] = [("hopeless", 2), ("self-harm", 4), ("suicide", 6)],
        ["Sexual"] = [("flirt", 2), ("nude", 4), ("explicit", 6)],
        ["Violence"] = [("fight", 2), ("kill", 4), ("massacre", 6)],
    };

    /// <summary>Phrases that make Prompt Shields report an attack (matched in any case, runs of spaces as one).</summary>
    public static readonly string[] JailbreakPhrases =
    [
        "ignore previous instructions",
        "ignore all previous instructions",
        "disregard your instructions",
        "you are now dan",
        "do anything now",
        "developer mode",
    ];

    private static readonly Dictionary<string, (Regex Pattern, int Severity)[]> Triggers = TriggerWords.ToDictionary(
        c => c.Key,
        c => c.Value.Select(t => (WholeWord(t.Word), t.Severity))
            .Concat(Enumerable.Range(0, 8).Select(n => (WholeWord($"mock-{c.Key.ToLowerInvariant()}-{n}"), n)))
            .ToArray(),
        StringComparer.Ordinal);

    /// <summary>The severity of <paramref name="text"/> in <paramref name="category"/>, on the scale of <paramref name="eightLevels"/>.</summary>
    public static int Severity(string text, string category, bool eightLevels)
    {
        var severity = Triggers[category].Where(t => t.Pattern.IsMatch(text)).Select(t => t.Severity).DefaultIfEmpty(0).Max();
        return eightLevels ? severity : severity / 2 * 2;
    }

    /// <summary>Whether <paramref name="text"/> holds a jailbreak phrase.</summary>
    public static bool IsAttack(string text)
    {
        var normalized = Spaces().Replace(text, " ");
        return JailbreakPhrases.Any(p => normalized.Contains(p, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A pattern for <paramref name="phrase"/> as whole words (not inside a longer word), in any case.</summary>
    public static Regex WholeWord(string phrase) =>
        new($@"(?<![\p{{L}}\p{{N}}_-]){Regex.Escape(phrase)}(?![\p{{L}}\p{{N}}_-])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
