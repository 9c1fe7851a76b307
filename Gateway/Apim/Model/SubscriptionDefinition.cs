namespace Gateway.Apim.Model;

/// <summary>An API Management subscription: a name and a scope; its keys are secrets kept outside the repository.</summary>
internal sealed record SubscriptionDefinition(string Name, string? DisplayName, string Scope, string State)
{
    public const string FileName = "subscriptions.json";

    public bool IsActive => string.Equals(State, "active", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the subscription grants access to the API: scope <c>/apis</c> (all APIs) or <c>/apis/{id}</c>.</summary>
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

            if (!subscription.Scope.StartsWith("/apis", StringComparison.OrdinalIgnoreCase))
            {
                throw new ApimArtifactException(path, $"subscription '{subscription.Name}' has scope '{subscription.Scope}'; supported scopes are /apis and /apis/{{api-id}}");
            }
        }

        return document.Subscriptions ?? [];
    }

    private sealed record SubscriptionsDocument(IReadOnlyList<SubscriptionDefinition>? Subscriptions);
}
