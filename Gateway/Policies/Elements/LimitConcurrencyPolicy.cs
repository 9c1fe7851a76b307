using System.Runtime.CompilerServices;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>limit-concurrency</c>: at most <c>max-count</c> requests run its child policies at a time for one <c>key</c> (a
/// key may be shared by several such policies). One more fails at once, without waiting: it goes to on-error and,
/// unless on-error answers, the caller gets 429. A request leaves when its children end, however they end (error,
/// cancellation, <c>return-response</c>).
/// </summary>
internal sealed class LimitConcurrencyPolicy(ElementInfo info, PolicyValue key, int maxCount, IReadOnlyList<PolicyElement> children) : PolicyElement(info)
{
    /// <summary>The body of the 429, in API Management's error shape; the text is this gateway's own (none is documented).</summary>
    public const string TooManyRequestsBody = """{ "statusCode": 429, "message": "Too many concurrent requests." }""";

    public override IEnumerable<IReadOnlyList<PolicyElement>> Nested => [children];

    public static PolicyElement? Parse(ElementReader reader)
    {
        var key = reader.Value("key", required: true);
        var maxCount = reader.Int("max-count", 1, int.MaxValue);
        if (reader.Element.Attribute("max-count") is null)
        {
            reader.Error("<limit-concurrency> requires attribute 'max-count'");
        }

        var children = reader.PolicyChildren();
        return key is null || maxCount is null ? null : new LimitConcurrencyPolicy(reader.Info, key, maxCount.Value, children);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var name = key.EvaluateString(context, Name) ?? string.Empty;
        var slot = context.Services.Concurrency.Acquire(name, maxCount);
        if (!slot.IsAcquired)
        {
            throw new PolicyExecutionException(Name, ErrorReasons.ConcurrencyLimitExceeded, $"More than {maxCount} concurrent requests for key '{name}'.")
            {
                Response = ResponseState.Json(StatusCodes.Status429TooManyRequests, "Too Many Requests", TooManyRequestsBody),
            };
        }

        try
        {
            return await PolicyRunner.RunElementsAsync(context, frame, children);
        }
        finally
        {
            slot.Release();
        }
    }
}
