using Gateway.Apim;
using Gateway.Expressions;

namespace Gateway.Pipeline;

/// <summary><c>context.Api</c>.</summary>
internal sealed class ApiInfo(ApiEntity entity) : IApi, ISubscriptionKeyParameterNames
{
    public ApiEntity Entity { get; } = entity;

    public string Id => Entity.Id;

    public string Name => Entity.DisplayName ?? Entity.Id;

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

/// <summary><c>context.Deployment</c> of the local gateway.</summary>
internal sealed class DeploymentInfo : IDeployment
{
    public static readonly DeploymentInfo Local = new();

    public string GatewayId => "local";

    public string Region => "local";

    public string ServiceName => "local-apim";
}

/// <summary><c>context.Subscription</c>: the subscription whose key the caller presented.</summary>
internal sealed class SubscriptionInfo(string name, string presentedKey, string primaryKey, string secondaryKey) : ISubscription
{
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

    public override string ToString() => uri.ToString();
}
