using Gateway.Apim;
using Gateway.Expressions;

namespace Gateway.Pipeline;

/// <summary><c>context.Api</c>.</summary>
internal sealed class ApiInfo(ApiEntity entity) : IApi, ISubscriptionKeyParameterNames
{
    public ApiEntity Entity { get; } = entity;

    public string Id => Entity.Id;

    /// <summary>ARM's <c>isCurrent</c>; an API created without revisions is its own current revision.</summary>
    public bool IsCurrentRevision => Entity.IsCurrent ?? true;

    public string Name => Entity.DisplayName ?? Entity.Id;

    /// <summary>ARM's <c>apiRevision</c>: "If no value is provided, default revision 1 is created".</summary>
    public string Revision => string.IsNullOrEmpty(Entity.ApiRevision) ? "1" : Entity.ApiRevision;

    /// <summary>ARM's <c>apiVersion</c>, which an API has only when it is versioned.</summary>
    public string? Version => Entity.ApiVersion;

    public string Path => Entity.Path;

    public IEnumerable<string> Protocols => Entity.Protocols ?? ["https"];

    public IUrl? ServiceUrl => Entity.ServiceUrl is null ? null : new UriUrl(Entity.ServiceUrl);

    public ISubscriptionKeyParameterNames SubscriptionKeyParameterNames => this;

    string ISubscriptionKeyParameterNames.Header => Entity.KeyNames.Header;

    string ISubscriptionKeyParameterNames.Query => Entity.KeyNames.Query;
}

/// <summary><c>context.Operation</c>.</summary>
internal sealed class OperationInfo(ApiOperation operation) : IOperation
{
    public IReadOnlyDictionary<(int Status, string ContentType), string> Examples => operation.Examples;

    public string Id => operation.Id;

    public string Method => operation.Method;

    public string Name => operation.Id;

    public string UrlTemplate => operation.UrlTemplate;
}

/// <summary><c>context.Deployment</c> of the local gateway, which stands for API Management's managed gateway.</summary>
internal sealed class DeploymentInfo : IDeployment, IGateway
{
    /// <summary>What API Management reports as <c>GatewayId</c> (and <c>Gateway.Id</c>) for the managed gateway.</summary>
    public const string ManagedGatewayId = "managed";

    public const string LocalServiceName = "local-apim";

    public static readonly DeploymentInfo Local = new();

    public IReadOnlyDictionary<string, System.Security.Cryptography.X509Certificates.X509Certificate2> Certificates { get; } =
        new Dictionary<string, System.Security.Cryptography.X509Certificates.X509Certificate2>(StringComparer.OrdinalIgnoreCase);

    public IGateway Gateway => this;

    public string GatewayId => ManagedGatewayId;

    public string Region => "local";

    /// <summary>An ARM resource id of API Management's shape, with the all-zero subscription and a <c>local</c> resource group.</summary>
    public string ServiceId => "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.ApiManagement/service/" + LocalServiceName;

    public string ServiceName => LocalServiceName;

    string IGateway.Id => ManagedGatewayId;

    /// <summary>The gateway process: one instance per machine name and process id.</summary>
    string IGateway.InstanceId { get; } = $"{Environment.MachineName}-{Environment.ProcessId}".ToLowerInvariant();

    bool IGateway.IsManaged => true;
}

/// <summary><c>context.Subscription</c>: the subscription whose key the caller presented.</summary>
internal sealed class SubscriptionInfo(string name, string presentedKey, string primaryKey, string secondaryKey, ProductInfo? product = null, UserInfo? user = null) : ISubscription
{
    /// <summary>The product a product-scoped subscription belongs to.</summary>
    public ProductInfo? Product { get; } = product;

    /// <summary>The user who owns the subscription.</summary>
    public UserInfo? User { get; } = user;

    public DateTime CreatedDate => DateTime.UnixEpoch;

    public DateTime? EndDate => null;

    public string Id => name;

    public string Key => presentedKey;

    public string Name => name;

    public string PrimaryKey => primaryKey;

    public string SecondaryKey => secondaryKey;

    public DateTime? StartDate => null;

    public override string ToString() => name;
}

/// <summary><c>context.Product</c>, with the product's policy (null when it has none).</summary>
internal sealed class ProductInfo(Apim.Model.ProductDefinition definition, IReadOnlyList<IApi> apis, Policies.PolicyDocument? policy) : IProduct
{
    public Apim.Model.ProductDefinition Definition { get; } = definition;

    public Policies.PolicyDocument? Policy { get; } = policy;

    public IEnumerable<IApi> Apis => apis;

    public bool ApprovalRequired => Definition.ApprovalRequired;

    public IEnumerable<IGroup> Groups => (Definition.Groups ?? []).Select(GroupInfo.Of);

    public string Id => Definition.Id;

    public string Name => Definition.DisplayName ?? Definition.Id;

    public ProductState State => Definition.IsPublished ? ProductState.Published : ProductState.NotPublished;

    public int? SubscriptionLimit => Definition.SubscriptionsLimit;

    public bool SubscriptionRequired => Definition.SubscriptionRequired;

    public override string ToString() => Id;
}

/// <summary><c>context.User</c>: the owner of the subscription. Its one identity is the basic provider's, its email.</summary>
internal sealed class UserInfo(Apim.Model.UserDefinition definition) : IUser
{
    public string Email => definition.Email ?? string.Empty;

    public string FirstName => definition.FirstName ?? string.Empty;

    public IEnumerable<IGroup> Groups => (definition.Groups ?? ["developers"]).Select(GroupInfo.Of);

    public string Id => definition.Id;

    public IEnumerable<IUserIdentity> Identities => definition.Email is null ? [] : [new UserIdentity(definition.Email, "Basic")];

    public string LastName => definition.LastName ?? string.Empty;

    public string Note => definition.Note ?? string.Empty;

    public DateTime RegistrationDate => definition.RegistrationDate ?? DateTime.UnixEpoch;

    public override string ToString() => Id;

    private sealed record UserIdentity(string Id, string Provider) : IUserIdentity;
}

/// <summary>A group; API Management's three built-in groups have their display names.</summary>
internal sealed record GroupInfo(string Id, string Name) : IGroup
{
    public static GroupInfo Of(string id) => id.ToLowerInvariant() switch
    {
        "administrators" => new(id, "Administrators"),
        "developers" => new(id, "Developers"),
        "guests" => new(id, "Guests"),
        _ => new(id, id),
    };
}

/// <summary>An <see cref="IUrl"/> over a fixed <see cref="Uri"/>.</summary>
internal sealed class UriUrl(Uri uri) : IUrl
{
    public string Host => uri.Host;

    public string Path => uri.AbsolutePath;

    public int Port => uri.Port;

    public IReadOnlyDictionary<string, string[]> Query { get; } = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query)
        .ToDictionary(p => p.Key, p => p.Value.ToStrings(), StringComparer.Ordinal);

    public string QueryString => uri.Query;

    public string Scheme => uri.Scheme;

    public Uri ToUri() => uri;

    public override string ToString() => uri.ToString();
}
