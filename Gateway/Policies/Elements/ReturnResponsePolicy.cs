using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>return-response</c>: ends the pipeline and answers with a new response (default 200 with no body) built by its
/// <c>set-status</c> and <c>set-header</c> children, or with the response held in <c>response-variable-name</c>.
/// </summary>
internal sealed class ReturnResponsePolicy(ElementInfo info, string? responseVariable, IReadOnlyList<PolicyElement> children) : PolicyElement(info)
{
    public static PolicyElement Parse(ElementReader reader)
    {
        var variable = reader.Literal("response-variable-name");
        var children = new List<PolicyElement>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in reader.Children("set-status", "set-header", "set-body"))
        {
            var name = child.Name.LocalName;
            var childReader = reader.Reader(child, index[name] = index.GetValueOrDefault(name) + 1);
            var element = name switch
            {
                "set-status" => SetStatusPolicy.Parse(childReader),
                "set-header" => SetHeaderPolicy.Parse(childReader),
                _ => SetBodyPolicy.Parse(childReader),
            };
            childReader.Finish();
            if (element is not null)
            {
                children.Add(element);
            }
        }

        return new ReturnResponsePolicy(reader.Info, variable, children);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var response = ResponseState.Empty();
        if (responseVariable is not null)
        {
            if (context.Variables.GetValueOrDefault(responseVariable) is not ResponseState stored)
            {
                throw new PolicyExecutionException(Name, ErrorReasons.ResponseVariableNotFound, $"Variable '{responseVariable}' does not hold a response.");
            }

            response = stored;
        }

        context.ReplaceResponse(response);

        // Children build the new response, whatever section the return-response sits in.
        await PolicyRunner.RunElementsAsync(context, frame with { Section = PolicySection.Outbound }, children);
        return PolicyFlow.Return;
    }
}
