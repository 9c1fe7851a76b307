using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary><c>set-method</c>: changes the HTTP method of the request that will be forwarded.</summary>
internal sealed class SetMethodPolicy(ElementInfo info, PolicyValue method) : PolicyElement(info)
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"];

    public static PolicyElement Parse(ElementReader reader)
    {
        reader.Children();
        var value = reader.TextValue(reader.Element, ownAttributes: true);
        if (!value.IsExpression && !Methods.Contains(value.ToString().Trim(), StringComparer.OrdinalIgnoreCase))
        {
            reader.Error($"<set-method> needs an HTTP method ({string.Join(", ", Methods)}), not '{value.ToString().Trim()}'");
        }

        return new SetMethodPolicy(reader.Info, value);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        context.HttpContext.Request.Method = Evaluate(context);
        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>The method, upper case; also what a <c>send-request</c> sends with.</summary>
    public string Evaluate(RequestContext context)
    {
        var value = method.EvaluateString(context, Name)?.Trim().ToUpperInvariant();
        return value is not null && Methods.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new PolicyExecutionException(Name, ErrorReasons.InvalidMethod, $"'{value}' is not an HTTP method.");
    }
}
