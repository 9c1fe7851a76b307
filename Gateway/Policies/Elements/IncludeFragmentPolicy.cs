using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>include-fragment</c>: the fragment's policies, from <c>apim/fragments/{fragment-id}.xml</c>, run in place. They
/// are parsed and compiled with the including document, so a broken fragment stops the load like a broken policy.
/// </summary>
internal sealed class IncludeFragmentPolicy(ElementInfo info, IReadOnlyList<PolicyElement> elements) : PolicyElement(info)
{
    public override IEnumerable<IReadOnlyList<PolicyElement>> Nested => [elements];

    public static PolicyElement? Parse(ElementReader reader)
    {
        var id = reader.Literal("fragment-id", required: true);
        reader.Children();
        return id is null ? null : new IncludeFragmentPolicy(reader.Info, reader.Fragment(id));
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame) =>
        PolicyRunner.RunElementsAsync(context, frame, elements);
}
