using System.Globalization;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>emit-metric</c>: adds <c>value</c> (default 1) to the custom metric <c>name</c> in <c>namespace</c> (default
/// <c>API Management</c>), with up to 10 dimensions. A dimension without a value takes API Management's default for
/// its name (API ID, Operation ID, Product ID, User ID, Subscription ID, Location, Gateway ID).
/// </summary>
internal sealed class EmitMetricPolicy(ElementInfo info, PolicyValue name, PolicyValue? value, MetricDimensions dimensions)
    : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Value("name", required: true);
        var value = reader.Value("value");
        var dimensions = MetricDimensions.Read(reader, expressionNames: false);
        return name is null ? null : new EmitMetricPolicy(reader.Info, name, value, dimensions);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var text = value?.EvaluateString(context, Name) ?? "1";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.InvalidMetricValue, $"The metric value '{text}' is not a number.");
        }

        var tags = dimensions.Tags(context, Name);
        context.Services.Metrics.Add(name.EvaluateString(context, Name) ?? "metric", amount, tags);
        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
