using Gateway.Apim.Model;

namespace Gateway.Apim;

/// <summary>
/// <c>apim/apis/{id}/api.json</c>: an API of API Management with its definition and policy files, and the optional web
/// service URL that <c>forward-request</c> uses when no policy sets a backend. <c>apiVersion</c>, <c>apiRevision</c> and
/// <c>isCurrent</c> are the ARM properties of the same names, read for <c>context.Api</c>.
/// </summary>
internal sealed record ApiEntity(
    string Id,
    string? DisplayName,
    string Path,
    bool SubscriptionRequired,
    SubscriptionKeyParameterNames? SubscriptionKeyParameterNames,
    string Definition,
    string Policy,
    Uri? ServiceUrl = null,
    IReadOnlyList<string>? Protocols = null,
    string? ApiVersion = null,
    string? ApiRevision = null,
    bool? IsCurrent = null)
{
    public const string FileName = "api.json";

    /// <summary>API Management's defaults when an API does not name its own.</summary>
    public SubscriptionKeyParameterNames KeyNames => SubscriptionKeyParameterNames ?? new("Ocp-Apim-Subscription-Key", "subscription-key");

    public static ApiEntity Load(string apiFolder)
    {
        var path = System.IO.Path.Combine(apiFolder, FileName);
        var api = ApimJson.Read<ApiEntity>(path);
        if (string.IsNullOrWhiteSpace(api.Id) || string.IsNullOrWhiteSpace(api.Definition) || string.IsNullOrWhiteSpace(api.Policy))
        {
            throw new ApimArtifactException(path, "id, definition and policy are required");
        }

        return api with { Path = api.Path?.Trim('/') ?? string.Empty };
    }
}

/// <summary>Header and query parameter names that carry the subscription key.</summary>
internal sealed record SubscriptionKeyParameterNames(string Header, string Query);
