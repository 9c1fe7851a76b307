namespace Gateway.Expressions;

/// <summary>
/// The <c>context</c> variable of a policy expression, with API Management's member names.
/// </summary>
public interface IContext
{
    /// <summary>The API the request matched.</summary>
    IApi Api { get; }

    /// <summary>The backend entity <c>set-backend-service backend-id</c> chose (a single backend or a pool); null otherwise.</summary>
    IBackend? Backend { get; }

    /// <summary>The gateway that runs the policy.</summary>
    IDeployment Deployment { get; }

    /// <summary>Time since the request arrived.</summary>
    TimeSpan Elapsed { get; }

    /// <summary>The error being handled; set only while <c>on-error</c> runs.</summary>
    ILastError? LastError { get; }

    /// <summary>The operation the request matched.</summary>
    IOperation Operation { get; }

    /// <summary>The product of the caller's subscription; null when the subscription is scoped to APIs (or there is none).</summary>
    IProduct? Product { get; }

    /// <summary>The incoming request, as the policy has changed it so far.</summary>
    IRequest Request { get; }

    /// <summary>The unique id of this request.</summary>
    Guid RequestId { get; }

    /// <summary>The response: the backend's after <c>forward-request</c>, the one being built otherwise.</summary>
    IResponse Response { get; }

    /// <summary>The subscription whose key the caller presented; null for APIs without subscriptions.</summary>
    ISubscription? Subscription { get; }

    /// <summary>When the request arrived (UTC).</summary>
    DateTime Timestamp { get; }

    /// <summary>The user who owns the caller's subscription; null when it has no owner (or there is none).</summary>
    IUser? User { get; }

    /// <summary>The variables set by <c>set-variable</c>.</summary>
    IReadOnlyDictionary<string, object> Variables { get; }

    /// <summary>Whether this request is traced: here, whether its span is recorded (exported to the dashboard).</summary>
    bool Tracing { get; }

    /// <summary>Writes <paramref name="message"/> to the request's trace, as a <c>trace</c> policy with source <c>context.Trace</c> would.</summary>
    void Trace(string message);

    /// <summary>The workspace of the API; null when the API is not in a workspace (here, always: the gateway has no workspaces).</summary>
    IWorkspace? Workspace { get; }
}

/// <summary>An API Management workspace (<c>context.Workspace</c>).</summary>
public interface IWorkspace
{
    string Id { get; }

    string Name { get; }
}

/// <summary>The matched API.</summary>
public interface IApi
{
    string Id { get; }

    /// <summary>Whether this revision is the API's current one (what callers reach without <c>;rev=n</c>).</summary>
    bool IsCurrentRevision { get; }

    string Name { get; }

    string Path { get; }

    IEnumerable<string> Protocols { get; }

    /// <summary>The API's revision (<c>"1"</c> unless api.json names another).</summary>
    string Revision { get; }

    /// <summary>The API's web service URL; null when the API has none and policies choose backends.</summary>
    IUrl? ServiceUrl { get; }

    ISubscriptionKeyParameterNames SubscriptionKeyParameterNames { get; }

    /// <summary>The API's version identifier; null for an API that is not versioned.</summary>
    string? Version { get; }
}

/// <summary>A backend entity of the topology (<c>context.Backend</c>).</summary>
public interface IBackend
{
    /// <summary>The backend entity's id; a pool's own id, not the member a request went to.</summary>
    string Id { get; }

    /// <summary><c>Single</c> or <c>Pool</c>.</summary>
    string Type { get; }

    /// <summary>The region of the backend's account; null for pools and backends without an account.</summary>
    string? AzureRegion { get; }
}

/// <summary>Header and query parameter names of the subscription key.</summary>
public interface ISubscriptionKeyParameterNames
{
    string Header { get; }

    string Query { get; }
}

/// <summary>The gateway instance.</summary>
public interface IDeployment
{
    /// <summary>The certificates uploaded to the service, by thumbprint.</summary>
    IReadOnlyDictionary<string, System.Security.Cryptography.X509Certificates.X509Certificate2> Certificates { get; }

    /// <summary>The gateway that runs the request.</summary>
    IGateway Gateway { get; }

    /// <summary>The gateway's id: <c>managed</c> for the managed gateway.</summary>
    string GatewayId { get; }

    string Region { get; }

    /// <summary>The service's Azure resource id.</summary>
    string ServiceId { get; }

    string ServiceName { get; }
}

/// <summary>The gateway that runs the request (<c>context.Deployment.Gateway</c>).</summary>
public interface IGateway
{
    /// <summary>The gateway's id: <c>managed</c> for the managed gateway, the gateway resource's name for a self-hosted one.</summary>
    string Id { get; }

    /// <summary>The gateway instance (process) that runs the request.</summary>
    string InstanceId { get; }

    /// <summary>Whether this is the managed gateway (not a self-hosted or workspace gateway).</summary>
    bool IsManaged { get; }
}

/// <summary>The error that sent the request to <c>on-error</c>.</summary>
public interface ILastError
{
    string Source { get; }

    string Reason { get; }

    string Message { get; }

    string Scope { get; }

    string Section { get; }

    string Path { get; }

    string PolicyId { get; }
}

/// <summary>The matched operation.</summary>
public interface IOperation
{
    string Id { get; }

    string Method { get; }

    string Name { get; }

    string UrlTemplate { get; }
}

/// <summary>A product (<c>apim/products/{id}/product.json</c>).</summary>
public interface IProduct
{
    IEnumerable<IApi> Apis { get; }

    bool ApprovalRequired { get; }

    IEnumerable<IGroup> Groups { get; }

    string Id { get; }

    string Name { get; }

    ProductState State { get; }

    int? SubscriptionLimit { get; }

    bool SubscriptionRequired { get; }
}

/// <summary>Whether a product is visible to developers.</summary>
public enum ProductState
{
    NotPublished,
    Published,
}

/// <summary>A group of users.</summary>
public interface IGroup
{
    string Id { get; }

    string Name { get; }
}

/// <summary>A user (the <c>users</c> of <c>apim/subscriptions.json</c>).</summary>
public interface IUser
{
    string Email { get; }

    string FirstName { get; }

    IEnumerable<IGroup> Groups { get; }

    string Id { get; }

    IEnumerable<IUserIdentity> Identities { get; }

    string LastName { get; }

    string Note { get; }

    DateTime RegistrationDate { get; }
}

/// <summary>An identity of a user with an identity provider.</summary>
public interface IUserIdentity
{
    string Id { get; }

    string Provider { get; }
}

/// <summary>A message body, read as text, bytes, JSON, XML or form data.</summary>
public interface IMessageBody
{
    /// <summary>
    /// The body as <c>string</c>, <c>byte[]</c>, a Newtonsoft <c>JObject</c>/<c>JArray</c>/<c>JToken</c>, or an
    /// <c>XNode</c>/<c>XElement</c>/<c>XDocument</c>. As in API
    /// Management, reading consumes the body unless <paramref name="preserveContent"/> is true: a consumed request body
    /// is forwarded empty.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "API Management's member name, which policies call.")]
    T As<T>(bool preserveContent = false);

    /// <summary>
    /// The body read as <c>application/x-www-form-urlencoded</c> data: each name (decoded) with its values (decoded) in
    /// the order they came. Consumes the body as <see cref="As{T}"/> does unless <paramref name="preserveContent"/> is true.
    /// </summary>
    IDictionary<string, IList<string>> AsFormUrlEncodedContent(bool preserveContent = false);
}

/// <summary>The request.</summary>
public interface IRequest
{
    /// <summary>The request body (requests whose policy reads it are buffered when they arrive).</summary>
    IMessageBody Body { get; }

    IReadOnlyDictionary<string, string[]> Headers { get; }

    string? IpAddress { get; }

    IReadOnlyDictionary<string, string> MatchedParameters { get; }

    string Method { get; }

    IUrl OriginalUrl { get; }

    IUrl Url { get; }
}

/// <summary>The response.</summary>
public interface IResponse
{
    /// <summary>The response body (the backend's only when its <c>forward-request</c> buffers the response, the default).</summary>
    IMessageBody Body { get; }

    IReadOnlyDictionary<string, string[]> Headers { get; }

    int StatusCode { get; }

    string StatusReason { get; }
}

/// <summary>The subscription of the caller. Keys are exposed as in API Management; they are never logged.</summary>
public interface ISubscription
{
    DateTime CreatedDate { get; }

    DateTime? EndDate { get; }

    string Id { get; }

    string Key { get; }

    string Name { get; }

    string PrimaryKey { get; }

    string SecondaryKey { get; }

    DateTime? StartDate { get; }
}

/// <summary>A URL.</summary>
public interface IUrl
{
    string Host { get; }

    string Path { get; }

    int Port { get; }

    IReadOnlyDictionary<string, string[]> Query { get; }

    string QueryString { get; }

    string Scheme { get; }

    /// <summary>The whole URL as a <see cref="Uri"/>.</summary>
    Uri ToUri();
}
