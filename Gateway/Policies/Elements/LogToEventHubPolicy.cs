using System.Diagnostics;
using System.Text;
using Gateway.Pipeline;
using Gateway.Telemetry;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>log-to-eventhub</c>: the message (the element's text, literal or an expression) goes, as API Management sends it
/// to the event hub of the logger <c>logger-id</c>, to the gateway's log (category <c>Gateway.Policies.EventHub</c>)
/// and as an event on the request's span, with the logger id and the partition. There is no event hub locally, so
/// any logger id is accepted. Messages over 200 KB are cut to 200 KB (of UTF-8), as API Management cuts them.
/// </summary>
internal sealed partial class LogToEventHubPolicy(ElementInfo info, string loggerId, string? partitionId, PolicyValue? partitionKey, PolicyValue message)
    : PolicyElement(info)
{
    /// <summary>API Management's largest message; a longer one is truncated before it reaches the event hub.</summary>
    public const int MaxMessageBytes = 200 * 1024;

    public static PolicyElement? Parse(ElementReader reader)
    {
        var loggerId = reader.Literal("logger-id", required: true);
        var partitionId = reader.Literal("partition-id");
        var partitionKey = reader.Value("partition-key");
        if (partitionId is not null && partitionKey is not null)
        {
            reader.Error("<log-to-eventhub> takes partition-id or partition-key, not both");
        }

        if (partitionId is not null && !int.TryParse(partitionId, out _))
        {
            reader.Error($"partition-id must be a partition index, not '{partitionId}'");
        }

        foreach (var child in reader.Element.Elements())
        {
            reader.Error($"<{child.Name.LocalName}> is not allowed inside <log-to-eventhub>");
        }

        var message = reader.TextValue(reader.Element, ownAttributes: true);
        return loggerId is null ? null : new LogToEventHubPolicy(reader.Info, loggerId, partitionId, partitionKey, message);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var text = Truncate(message.EvaluateString(context, Name) ?? string.Empty);
        var partition = partitionId ?? partitionKey?.EvaluateString(context, Name);
        if (Activity.Current is { Recorded: true } activity)
        {
            activity.AddEvent(new ActivityEvent("log-to-eventhub", tags: new ActivityTagsCollection
            {
                ["apim.eventhub.logger_id"] = loggerId,
                ["apim.eventhub.partition"] = partition,
                ["apim.eventhub.message"] = text,
            }));
        }

        Log.Sent(context.Services.EventHubLog, loggerId, partition, text, context.RequestId);
        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>The message cut to <see cref="MaxMessageBytes"/> of UTF-8, never inside a character.</summary>
    public static string Truncate(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) <= MaxMessageBytes)
        {
            return text;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var end = MaxMessageBytes;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80)
        {
            end--;
        }

        return Encoding.UTF8.GetString(bytes, 0, end);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.EventHubMessage, Level = LogLevel.Information, Message = "Event hub message for logger {LoggerId} (partition {Partition}): {EventHubMessage} (request {RequestId})")]
        public static partial void Sent(ILogger logger, string loggerId, string? partition, string eventHubMessage, Guid requestId);
    }
}
