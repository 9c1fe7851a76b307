namespace Gateway.Apim.Model;

/// <summary>
/// <c>apim/products/{id}/product.json</c>: a product of API Management, which groups APIs behind its subscriptions and
/// may carry a policy that runs between the global and the API scope for requests made with its subscriptions.
/// </summary>
internal sealed record ProductDefinition(
    string Id,
    string? DisplayName,
    string? Description,
    IReadOnlyList<string>? Apis,
    bool SubscriptionRequired = true,
    bool ApprovalRequired = false,
    int? SubscriptionsLimit = null,
    string State = "published",
    IReadOnlyList<string>? Groups = null,
    string? Policy = null)
{
    public const string Folder = "products";

    public const string FileName = "product.json";

    public bool IsPublished => string.Equals(State, "published", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every product under <c>apim/products/</c> with its folder, in folder order.</summary>
    public static IReadOnlyList<(ProductDefinition Product, string Folder)> LoadAll(string apimPath)
    {
        var root = Path.Combine(apimPath, Folder);
        var products = new List<(ProductDefinition, string)>();
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var folder in Directory.Exists(root) ? Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToArray() : [])
        {
            var path = Path.Combine(folder, FileName);
            var product = ApimJson.Read<ProductDefinition>(path);
            if (string.IsNullOrWhiteSpace(product.Id) || !ids.Add(product.Id))
            {
                throw new ApimArtifactException(path, $"product id '{product.Id}' is empty or repeated");
            }

            if (!product.SubscriptionRequired)
            {
                throw new ApimArtifactException(path, "products without subscriptions (open products) are not supported by this gateway yet");
            }

            if (product.State is not ("published" or "notPublished"))
            {
                throw new ApimArtifactException(path, $"state must be published or notPublished, not '{product.State}'");
            }

            products.Add((product, folder));
        }

        return products;
    }
}
