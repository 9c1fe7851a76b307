namespace Gateway.Telemetry;

/// <summary>What the GenAI spans record (<c>Gateway:Telemetry</c>).</summary>
internal sealed class GenAIOptions
{
    public const string SectionName = "Gateway:Telemetry";

    /// <summary>
    /// The variable OpenTelemetry's GenAI instrumentations read to opt in to message content: <c>true</c>,
    /// <c>SPAN_ONLY</c> or <c>SPAN_AND_EVENT</c> turn it on here.
    /// </summary>
    public const string ContentVariable = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

    /// <summary>
    /// Whether the spans carry the messages (<c>gen_ai.input.messages</c>, <c>gen_ai.output.messages</c>): prompts and
    /// answers, which may be personal data. Off unless this setting or <see cref="ContentVariable"/> turns it on. Keys,
    /// tokens and headers are never recorded either way.
    /// </summary>
    public bool CaptureMessageContent { get; set; }

    /// <summary>Whether <paramref name="value"/> of <see cref="ContentVariable"/> opts in.</summary>
    public static bool OptsIn(string? value) =>
        value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase)
            || value.Equals("SPAN_ONLY", StringComparison.OrdinalIgnoreCase)
            || value.Equals("SPAN_AND_EVENT", StringComparison.OrdinalIgnoreCase));
}
