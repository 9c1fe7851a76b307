namespace Gateway.Policies;

/// <summary>The policy documents that apply to an API, outermost (global) first.</summary>
internal sealed class PolicyChain : IDisposable
{
    public PolicyChain(IReadOnlyList<PolicyDocument> scopes)
    {
        Scopes = scopes;
    }

    public IReadOnlyList<PolicyDocument> Scopes { get; }

    public bool UsesRequestBody => Scopes.Any(s => s.UsesRequestBody);

    public ExecutionFrame Innermost(PolicySection section) => new(this, Scopes.Count - 1, section);

    public void Dispose()
    {
        foreach (var scope in Scopes)
        {
            scope.Dispose();
        }
    }
}
