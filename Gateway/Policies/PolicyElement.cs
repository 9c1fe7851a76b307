using Gateway.Expressions;
using Gateway.Pipeline;

namespace Gateway.Policies;

/// <summary>One element of a policy document, parsed and ready to run.</summary>
internal abstract class PolicyElement
{
    protected PolicyElement(ElementInfo info)
    {
        Info = info;
    }

    public ElementInfo Info { get; }

    public string Name => Info.Name;

    /// <summary>The element lists inside this one (a choose's branches, a retry's children, a fragment's elements).</summary>
    public virtual IEnumerable<IReadOnlyList<PolicyElement>> Nested => [];

    /// <summary>
    /// Runs the element. The result must be awaited exactly once, by the caller, and never stored, combined
    /// (<c>WhenAll</c>, <c>AsTask</c>) or read after that: the engine's methods that stay suspended across
    /// <c>forward-request</c> reuse their state machines (<see cref="System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder{TResult}"/>).
    /// </summary>
    public abstract ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame);
}

/// <summary>Where an element sits: its name, file position, API Management path (e.g. <c>choose[1]/when[2]</c>) and id attribute.</summary>
internal sealed record ElementInfo(string Name, SourceLocation Location, string Path, string PolicyId);
