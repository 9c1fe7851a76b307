using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary><c>&lt;base /&gt;</c>: runs the same section of the enclosing scope.</summary>
internal sealed class BasePolicy(ElementInfo info) : PolicyElement(info)
{
    public static PolicyElement Parse(ElementReader reader)
    {
        reader.Children();
        return new BasePolicy(reader.Info);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame) =>
        frame.ScopeIndex == 0 ? ValueTask.FromResult(PolicyFlow.Continue) : PolicyRunner.RunSectionAsync(context, frame with { ScopeIndex = frame.ScopeIndex - 1 });
}
