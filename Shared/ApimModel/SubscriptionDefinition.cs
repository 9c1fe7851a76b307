namespace Gateway.Apim.Model;

/// <summary>
/// An API Management subscription: a name, a scope (all APIs, one API or a product) and optionally the user who owns
/// it; its keys are secrets kept outside the repository.
/// </summary>
internal sealed record SubscriptionDefinition(string Name, string? DisplayName, string Scope, string State, string? OwnerId = null)
{
    private const string ProductScopePrefix = "/products/";

    public const string FileName = "subscriptions.json";

    public bool IsActive => string.Equals(State, "active", StringComparison.OrdinalIgnoreCase);

    /// <summary>The product of a product-scoped subscription (<c>/products/{id}</c>), else null.</summary>
    public string? ProductId => Scope.StartsWith(ProductScopePrefix, StringComparison.OrdinalIgnoreCase) ? Scope[ProductScopePrefix.Length..] : null;

    /// <summary>Whether an API-scoped subscription grants access to the API: scope <c>/apis</c> (all APIs) or <c>/apis/{id}</c>.</summary>
    public bool Covers(string apiId) =>
        string.Equals(Scope, "/apis", StringComparison.OrdinalIgnoreCase)
        || string.Equals(Scope, "/apis/" + apiId, StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<SubscriptionDefinition> Load(string apimPath)
    {
        var path = Path.Combine(apimPath, FileName);
        var document = ApimJson.Read<SubscriptionsDocument>(path);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var subscription in document.Subscriptions ?? [])
        {
            if (string.IsNullOrWhiteSpace(subscription.Name) || !names.Add(subscription.Name))
            {
                throw new ApimArtifactException(path, $"subscription name '{subscription.Name}' is empty or repeated");
            }

            if (!subscription.Scope.StartsWith("/apis", StringComparison.OrdinalIgnoreCase) && subscription.ProductId is not { Length: > 0 })
            {
                throw new ApimArtifactException(path, $"subscription '{subscription.Name}' has scope '{subscription.Scope}'; supported scopes are /apis, /apis/{{api-id}} and /products/{{product-id}}");
            }
        }

        return document.Subscriptions ?? [];
    }

    private sealed record SubscriptionsDocument(IReadOnlyList<SubscriptionDefinition>? Subscriptions);
}
