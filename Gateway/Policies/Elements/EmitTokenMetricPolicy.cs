using Gateway.Pipeline;
using Gateway.Telemetry;
using Gateway.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>azure-openai-emit-token-metric</c> and <c>llm-emit-token-metric</c>: once the request's token usage is known,
/// adds its prompt, completion and total tokens to the counters <c>Prompt Tokens</c>, <c>Completion Tokens</c> and
/// <c>Total Tokens</c> in <c>namespace</c> (default <c>API Management</c>), with 1 to 10 dimensions evaluated when the
/// policy runs. A dimension without a value takes API Management's default for its name. Nothing is emitted for a
/// request whose response reports no usage (no backend call, an error).
/// </summary>
internal sealed class EmitTokenMetricPolicy(ElementInfo info, string metricNamespace, IReadOnlyList<(PolicyValue Name, PolicyValue? Value)> dimensions)
    : PolicyElement(info)
{
    public const int MaxDimensions = 10;

    public static PolicyElement? Parse(ElementReader reader)
    {
        var metricNamespace = reader.Literal("namespace") ?? "API Management";
        var dimensions = new List<(PolicyValue, PolicyValue?)>();
        var children = reader.Children("dimension");
        for (var i = 0; i < children.Count; i++)
        {
            var child = reader.Reader(children[i], i + 1);
            var dimension = child.Value("name", required: true);
            var value = child.Value("value");
            child.Finish();
            if (dimension is null)
            {
                continue;
            }

            if (value is null && (dimension.IsExpression || !DefaultDimensions.Contains(dimension.ToString())))
            {
                child.Error($"dimension '{dimension}' needs a value (only {string.Join(", ", DefaultDimensions.Names)} have defaults)");
            }

            dimensions.Add((dimension, value));
        }

        if (dimensions.Count is 0 or > MaxDimensions)
        {
            reader.Error($"<{reader.Info.Name}> takes 1 to {MaxDimensions} dimensions");
        }

        return new EmitTokenMetricPolicy(reader.Info, metricNamespace, dimensions);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var tags = new KeyValuePair<string, object?>[dimensions.Count + 1];
        tags[0] = new("namespace", metricNamespace);
        for (var i = 0; i < dimensions.Count; i++)
        {
            var (name, value) = dimensions[i];
            var dimension = name.EvaluateString(context, Name) ?? string.Empty;
            tags[i + 1] = new(dimension, value is null ? DefaultDimensions.ValueOf(context, dimension) : value.EvaluateString(context, Name));
        }

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
