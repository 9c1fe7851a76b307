namespace Gateway.Policies;

/// <summary>The scopes a policy document applies at, outermost first, in API Management's names.</summary>
internal enum PolicyScope
{
    Global,
    Product,
    Api,
    Operation,
}

internal static class PolicyScopeNames
{
    /// <summary>The scope as API Management names it: <c>context.LastError.Scope</c>, trace events and load messages.</summary>
    public static string ToApimName(this PolicyScope scope) => scope switch
    {
        PolicyScope.Global => "global",
        PolicyScope.Product => "product",
        PolicyScope.Api => "api",
        _ => "operation",
    };
}
