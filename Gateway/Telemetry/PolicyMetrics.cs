using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// The custom metrics policies emit, on the meter <see cref="MeterName"/>: one counter per metric name of
/// <c>emit-metric</c>, and the token counters of the token metric policies under the names API Management gives them
/// in Application Insights; each tagged with the metric's namespace and dimensions.
/// </summary>
internal sealed class PolicyMetrics
{
    public const string MeterName = "Gateway.Policies.Metrics";

    public const string PromptTokensName = "Prompt Tokens";

    public const string CompletionTokensName = "Completion Tokens";

    public const string TotalTokensName = "Total Tokens";

    /// <summary>
    /// The names the token counters are exported under: OpenTelemetry drops instruments whose names have spaces unless
    /// a view renames them (see <see cref="ExportNames"/>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ExportNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [PromptTokensName] = "apim.tokens.prompt",
        [CompletionTokensName] = "apim.tokens.completion",
        [TotalTokensName] = "apim.tokens.total",
    };

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, Counter<double>> _counters = new(StringComparer.Ordinal);
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _completionTokens;
    private readonly Counter<long> _totalTokens;

    public PolicyMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _promptTokens = _meter.CreateCounter<long>(PromptTokensName, "{token}", "Prompt tokens of model calls, emitted by the token metric policies.");
        _completionTokens = _meter.CreateCounter<long>(CompletionTokensName, "{token}", "Completion tokens of model calls, emitted by the token metric policies.");
        _totalTokens = _meter.CreateCounter<long>(TotalTokensName, "{token}", "Total tokens of model calls, emitted by the token metric policies.");
    }

    /// <summary>
    /// Adds to <c>emit-metric</c>'s counter of that name. API Management accepts names OpenTelemetry would drop (with
    /// spaces, say): such a name is exported with <c>_</c> for each character OpenTelemetry does not take.
    /// </summary>
    public void Add(string name, double value, KeyValuePair<string, object?>[] tags) =>
        _counters.GetOrAdd(name, n => _meter.CreateCounter<double>(InstrumentName(n), description: $"Emitted by the emit-metric policy as '{n}'.")).Add(value, tags);

    /// <summary>A name OpenTelemetry accepts: a letter first, then letters, digits, <c>_ . - /</c>; at most 255 characters.</summary>
    public static string InstrumentName(string name)
    {
        var chars = name.Take(255).Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/' ? c : '_').ToArray();
        var sanitized = new string(chars);
        return sanitized.Length > 0 && char.IsAsciiLetter(sanitized[0]) ? sanitized : ("m_" + sanitized)[..Math.Min(255, sanitized.Length + 2)];
    }

    /// <summary>Adds one call's prompt, completion and total tokens.</summary>
    public void AddTokens(Tokens.TokenUsage usage, KeyValuePair<string, object?>[] tags)
    {
        _promptTokens.Add(usage.PromptTokens, tags);
        _completionTokens.Add(usage.CompletionTokens, tags);
        _totalTokens.Add(usage.TotalTokens, tags);
    }
}
