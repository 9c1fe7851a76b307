using System.Globalization;
using Gateway.Pipeline;
using Gateway.Telemetry;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>emit-metric</c>: adds <c>value</c> (default 1) to the custom metric <c>name</c> in <c>namespace</c> (default
/// <c>API Management</c>), with up to 10 dimensions. A dimension without a value takes API Management's default for
/// its name (API ID, Operation ID, Product ID, User ID, Subscription ID, Location, Gateway ID).
/// </summary>
internal sealed class EmitMetricPolicy(ElementInfo info, PolicyValue name, PolicyValue? value, string metricNamespace, IReadOnlyList<(string Name, PolicyValue? Value)> dimensions)
    : PolicyElement(info)
{
    public const int MaxDimensions = 10;

    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Value("name", required: true);
        var value = reader.Value("value");
        var metricNamespace = reader.Literal("namespace") ?? "API Management";
        var dimensions = new List<(string, PolicyValue?)>();
        var children = reader.Children("dimension");
        for (var i = 0; i < children.Count; i++)
        {
            var child = reader.Reader(children[i], i + 1);
            var dimension = child.Literal("name", required: true);
            var dimensionValue = child.Value("value");
            child.Finish();
            if (dimension is not null && dimensionValue is null && !DefaultDimensions.Contains(dimension))
            {
                child.Error($"dimension '{dimension}' needs a value (only {string.Join(", ", DefaultDimensions.Names)} have defaults)");
            }

            if (dimension is not null)
            {
                dimensions.Add((dimension, dimensionValue));
            }
        }

        if (dimensions.Count is 0 or > MaxDimensions)
        {
            reader.Error($"<emit-metric> takes 1 to {MaxDimensions} dimensions");
        }

        return name is null ? null : new EmitMetricPolicy(reader.Info, name, value, metricNamespace, dimensions);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var text = value?.EvaluateString(context, Name) ?? "1";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
        {
            throw new PolicyExecutionException(Name, "InvalidMetricValue", $"The metric value '{text}' is not a number.");
        }

        var tags = new KeyValuePair<string, object?>[dimensions.Count + 1];
        tags[0] = new("namespace", metricNamespace);
        for (var i = 0; i < dimensions.Count; i++)
        {
            var (dimension, dimensionValue) = dimensions[i];
            tags[i + 1] = new(dimension, dimensionValue is null ? DefaultDimensions.ValueOf(context, dimension) : dimensionValue.EvaluateString(context, Name));
        }

        context.Services.Metrics.Add(name.EvaluateString(context, Name) ?? "metric", amount, tags);
        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
