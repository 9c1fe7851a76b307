using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>set-body</c>: replaces the request body in inbound and backend, the response body in outbound and on-error (and
/// in <c>return-response</c>). The value is literal text or an expression (a string, bytes, or a JSON token written
/// compactly). Liquid templates are not supported yet and are refused.
/// </summary>
internal sealed class SetBodyPolicy(ElementInfo info, PolicyValue value) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var template = reader.Literal("template");
        if (template is not null && template != "none")
        {
            reader.Error($"template=\"{template}\" is not supported by this gateway yet (only \"none\")");
        }

        reader.Refuse("xsi-nil");
        reader.Refuse("parse-date");

        foreach (var child in reader.Element.Elements())
        {
            reader.Error($"<{child.Name.LocalName}> is not allowed inside <set-body>");
        }

        return new SetBodyPolicy(reader.Info, reader.TextValue(reader.Element, ownAttributes: true));
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var content = Content(context);
        if (frame.Section is PolicySection.Inbound or PolicySection.Backend)
        {
            context.RequestBody.Replace(content);
        }
        else
        {
            context.ReplaceResponseBody(content);
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>The body's bytes; also what a <c>send-request</c> sends.</summary>
    public byte[] Content(RequestContext context) => MessageBody.ToBytes(value.Evaluate(context, Name));
}
