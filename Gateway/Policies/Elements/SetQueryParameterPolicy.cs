using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary><c>set-query-parameter</c>: changes the query string of the request that will be forwarded.</summary>
internal sealed class SetQueryParameterPolicy(ElementInfo info, PolicyValue name, ExistsAction action, IReadOnlyList<PolicyValue> values) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Value("name", required: true);
        var action = ExistsActions.Read(reader);
        var values = ExistsActions.ReadValues(reader, action);
        return name is null ? null : new SetQueryParameterPolicy(reader.Info, name, action, values);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var parameterName = name.EvaluateString(context, Name);
        if (string.IsNullOrEmpty(parameterName))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.InvalidQueryParameterName, "The query parameter name is empty.");
        }

        // Deleting a parameter the request does not have changes nothing: the query is not copied for it.
        if (action != ExistsAction.Delete || context.HasQueryParameter(parameterName))
        {
            var newValues = values.Select(v => v.EvaluateString(context, Name) ?? string.Empty).ToList();
            ExistsActions.Apply(action, context.Query, parameterName, newValues);
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
