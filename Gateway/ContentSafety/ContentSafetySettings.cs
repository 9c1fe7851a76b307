namespace Gateway.ContentSafety;

/// <summary>
/// One execution's <c>llm-content-safety</c> settings, expressions evaluated: the backend, whether Prompt Shields runs,
/// the output type, each category's threshold (block at or above it), the blocklists, and the text windows
/// (<c>window-size</c>, <c>window-overlap-size</c>; no size: the whole text is one window).
/// </summary>
internal sealed record ContentSafetySettings(
    string BackendId,
    bool ShieldPrompt,
    string OutputType,
    IReadOnlyDictionary<string, int> Thresholds,
    IReadOnlyList<string> Blocklists,
    int? WindowSize = null,
    int WindowOverlap = 0)
{
    public const string FourSeverityLevels = "FourSeverityLevels";
    public const string EightSeverityLevels = "EightSeverityLevels";

    /// <summary>The harm categories, as Azure AI Content Safety and the policy name them.</summary>
    public static readonly string[] Categories = ["Hate", "SelfHarm", "Sexual", "Violence"];

    /// <summary>Whether <c>text:analyze</c> has anything to decide: a category with a threshold, or a blocklist.</summary>
    public bool Analyzes => Thresholds.Count > 0 || Blocklists.Count > 0;
}
