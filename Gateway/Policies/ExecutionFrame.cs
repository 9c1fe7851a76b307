namespace Gateway.Policies;

/// <summary>The section of the scope being run; <c>base</c> runs the same section one scope out.</summary>
internal sealed record ExecutionFrame(PolicyChain Chain, int ScopeIndex, PolicySection Section)
{
    public PolicyDocument Document => Chain.Scopes[ScopeIndex];
}
