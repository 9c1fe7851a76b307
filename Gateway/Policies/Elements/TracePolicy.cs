using System.Diagnostics;
using Gateway.Pipeline;
using Gateway.Telemetry;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>trace</c>: writes a message with its source, severity and metadata to the gateway's log and, as an event, to the
/// request's span, where the Aspire dashboard shows it (API Management sends it to its request trace and Application
/// Insights). Without <c>message</c> (which the reference marks required) the message is empty.
/// </summary>
internal sealed partial class TracePolicy(ElementInfo info, string source, string severity, PolicyValue? message, IReadOnlyList<(string Name, PolicyValue Value)> metadata)
    : PolicyElement(info)
{
    private static readonly string[] Severities = ["verbose", "information", "error"];

    public static PolicyElement? Parse(ElementReader reader)
    {
        var source = reader.Literal("source", required: true);
        var severity = reader.Literal("severity") ?? "verbose";
        if (!Severities.Contains(severity, StringComparer.Ordinal))
        {
            reader.Error($"severity must be verbose, information or error, not '{severity}'");
        }

        PolicyValue? message = null;
        var metadata = new List<(string, PolicyValue)>();
        var children = reader.Children("message", "metadata");
        for (var i = 0; i < children.Count; i++)
        {
            if (children[i].Name.LocalName == "message")
            {
                message = reader.TextValue(children[i]);
                continue;
            }

            var child = reader.Reader(children[i], i + 1);
            var name = child.Literal("name", required: true);
            var value = child.Value("value", required: true);
            child.Finish();
            if (name is not null && value is not null)
            {
                metadata.Add((name, value));
            }
        }

        return source is null ? null : new TracePolicy(reader.Info, source, severity, message, metadata);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var text = message?.EvaluateString(context, Name) ?? string.Empty;
        Write(context, source, severity, text, metadata.Select(m => KeyValuePair.Create(m.Name, m.Value.EvaluateString(context, Name) ?? string.Empty)));
        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>Writes a trace to the request's span (an event) and to the log: the element's, and <c>context.Trace(message)</c>'s.</summary>
    public static void Write(RequestContext context, string source, string severity, string text, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var tags = new ActivityTagsCollection
        {
            ["apim.trace.source"] = source,
            ["apim.trace.severity"] = severity,
            ["apim.trace.message"] = text,
        };
        foreach (var (name, value) in metadata)
        {
            tags["apim.trace.metadata." + name] = value;
        }

        Activity.Current?.AddEvent(new ActivityEvent("trace", tags: tags));
        var level = severity switch
        {
            "error" => LogLevel.Error,
            "information" => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        Log.Traced(context.Services.TraceLog, level, source, text, context.RequestId);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.PolicyTrace, Message = "Policy trace from {Source}: {Message} (request {RequestId})")]
        public static partial void Traced(ILogger logger, LogLevel level, string source, string message, Guid requestId);
    }
}
