using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>set-variable</c>: a literal value is stored as a <see cref="string"/>; an expression keeps the type it returns,
/// as in API Management.
/// </summary>
internal sealed class SetVariablePolicy(ElementInfo info, string name, PolicyValue value) : PolicyElement(info)
{
    public string VariableName => name;

    /// <summary>Whether the value is a literal, so the variable holds a <see cref="string"/>.</summary>
    public bool IsLiteral => !value.IsExpression;

    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Literal("name", required: true);
        var value = reader.Value("value", required: true);
        reader.Children();
        return name is null || value is null ? null : new SetVariablePolicy(reader.Info, name, value);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var result = value.Evaluate(context, Name);
        if (result is null)
        {
            context.VariableStore.Remove(name);
        }
        else
        {
            context.VariableStore[name] = result;
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
