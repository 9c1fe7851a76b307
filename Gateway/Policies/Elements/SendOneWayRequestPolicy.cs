using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>send-one-way-request</c>: sends a request built by its children (<see cref="OutgoingRequest"/>) without waiting
/// for it. Its values are evaluated here, in the request's context; the call itself runs in the background, bounded by
/// <c>timeout</c> (default 60 s) and by the number of one-way calls under way, and its failures are only logged.
/// </summary>
internal sealed class SendOneWayRequestPolicy(ElementInfo info, OutgoingRequest request) : PolicyElement(info)
{
    public OutgoingRequest Request => request;

    public static PolicyElement? Parse(ElementReader reader) =>
        OutgoingRequest.Parse(reader) is { } request ? new SendOneWayRequestPolicy(reader.Info, request) : null;

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        context.Services.SendRequests.SendOneWay(request.Prepare(context, frame.Section, Name));
        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
