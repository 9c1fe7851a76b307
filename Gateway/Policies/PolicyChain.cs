namespace Gateway.Policies;

/// <summary>
/// The policy documents that apply to an operation, outermost first: global, the product's when the caller's
/// subscription belongs to a product with a policy, API, then the operation's own when it has one. <c>&lt;base /&gt;</c> in one scope runs the same section of the scope around it. The documents belong to
/// the API route that built the chain.
/// </summary>
internal sealed class PolicyChain(IReadOnlyList<PolicyDocument> scopes)
{
    public IReadOnlyList<PolicyDocument> Scopes { get; } = scopes;

    public bool UsesRequestBody { get; } = scopes.Any(s => s.UsesRequestBody);

    public ExecutionFrame Innermost(PolicySection section) => new(this, Scopes.Count - 1, section);
}
