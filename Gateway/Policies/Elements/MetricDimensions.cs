using Gateway.Pipeline;
using Gateway.Telemetry;

namespace Gateway.Policies.Elements;

/// <summary>
/// The <c>namespace</c> and 1 to 10 <c>dimension</c> children of the metric policies (<c>emit-metric</c> and the token
/// metric policies), read the same way, and the tags they give a request: a dimension without a value takes API
/// Management's default for its name.
/// </summary>
internal sealed class MetricDimensions(string metricNamespace, IReadOnlyList<(PolicyValue Name, PolicyValue? Value)> dimensions)
{
    public const int MaxDimensions = 10;

    /// <param name="reader">The metric policy's reader.</param>
    /// <param name="expressionNames">Whether a dimension's name may be an expression (the token metric policies) or only text (<c>emit-metric</c>).</param>
    public static MetricDimensions Read(ElementReader reader, bool expressionNames)
    {
        var metricNamespace = reader.Literal("namespace") ?? "API Management";
        var dimensions = new List<(PolicyValue, PolicyValue?)>();
        var children = reader.Children("dimension");
        for (var i = 0; i < children.Count; i++)
        {
            var child = reader.Reader(children[i], i + 1);
            var name = expressionNames ? child.Value("name", required: true) : child.Literal("name", required: true) is { } text ? PolicyValue.Literal(text) : null;
            var value = child.Value("value");
            child.Finish();
            if (name is null)
            {
                continue;
            }

            if (value is null && (name.IsExpression || !DefaultDimensions.Contains(name.ToString())))
            {
                child.Error($"dimension '{name}' needs a value (only {string.Join(", ", DefaultDimensions.Names)} have defaults)");
            }

            dimensions.Add((name, value));
        }

        if (dimensions.Count is 0 or > MaxDimensions)
        {
            reader.Error($"<{reader.Info.Name}> takes 1 to {MaxDimensions} dimensions");
        }

        return new MetricDimensions(metricNamespace, dimensions);
    }

    /// <summary>The request's tags: the namespace, then each dimension with its value or its default.</summary>
    public KeyValuePair<string, object?>[] Tags(RequestContext context, string source)
    {
        var tags = new KeyValuePair<string, object?>[dimensions.Count + 1];
        tags[0] = new("namespace", metricNamespace);
        for (var i = 0; i < dimensions.Count; i++)
        {
            var (name, value) = dimensions[i];
            var dimension = name.EvaluateString(context, source) ?? string.Empty;
            tags[i + 1] = new(dimension, value is null ? DefaultDimensions.ValueOf(context, dimension) : value.EvaluateString(context, source));
        }

        return tags;
    }
}
