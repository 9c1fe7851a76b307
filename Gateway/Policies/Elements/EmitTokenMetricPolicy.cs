using Gateway.Pipeline;
using Gateway.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>azure-openai-emit-token-metric</c> and <c>llm-emit-token-metric</c>: once the request's token usage is known,
/// adds its prompt, completion and total tokens to the counters <c>Prompt Tokens</c>, <c>Completion Tokens</c> and
/// <c>Total Tokens</c> in <c>namespace</c> (default <c>API Management</c>), with 1 to 10 dimensions evaluated when the
/// policy runs. A dimension without a value takes API Management's default for its name. Nothing is emitted for a
/// request whose response reports no usage (no backend call, an error).
/// </summary>
internal sealed class EmitTokenMetricPolicy(ElementInfo info, MetricDimensions dimensions)
    : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var dimensions = MetricDimensions.Read(reader, expressionNames: true);
        return new EmitTokenMetricPolicy(reader.Info, dimensions);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var tags = dimensions.Tags(context, Name);

        var tracker = await TokenUsageTracker.OfAsync(context);
        var metrics = context.Services.Metrics;
        tracker.OnUsage(usage =>
        {
            if (usage is not null)
            {
                metrics.AddTokens(usage, tags);
            }
        });
        return PolicyFlow.Continue;
    }
}
