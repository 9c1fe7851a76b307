using System.Xml;

namespace Gateway.Apim.Model;

/// <summary>
/// <c>apim/topology.json</c>: the Azure OpenAI accounts, the Azure AI Content Safety accounts (<c>contentSafetyAccounts</c>,
/// optional) and the API Management backends in front of them, the backends in the shape of the ARM resource
/// <c>Microsoft.ApiManagement/service/backends</c> (single backends with a circuit breaker, pools of them by priority and
/// weight).
/// </summary>
internal sealed record Topology(
    IReadOnlyList<AccountDefinition> Accounts,
    IReadOnlyList<BackendDefinition> Backends,
    IReadOnlyList<ContentSafetyAccountDefinition>? ContentSafetyAccounts = null)
{
    public const string FileName = "topology.json";

    /// <summary>The Azure AI Content Safety accounts; none when the file lists none.</summary>
    public IReadOnlyList<ContentSafetyAccountDefinition> ContentSafetyAccounts { get; init; } = ContentSafetyAccounts ?? [];

    /// <summary>API Management's limit on the members of a pool.</summary>
    public const int MaxPoolMembers = 30;

    /// <summary>API Management's limits on a failure condition's lists (the REST API's <c>maxItems</c> and <c>maxLength</c>).</summary>
    public const int MaxStatusCodeRanges = 10;

    public const int MaxErrorReasons = 10;

    public const int MaxErrorReasonLength = 200;

    public static Topology Load(string apimPath)
    {
        var path = Path.Combine(apimPath, FileName);
        var topology = ApimJson.Read<Topology>(path);
        topology.Validate(path);
        return topology;
    }

    /// <summary>
    /// The single backends in front of the account named <paramref name="account"/>, of either kind (the names of Azure
    /// OpenAI and Content Safety accounts are unique across both lists).
    /// </summary>
    public IEnumerable<BackendDefinition> SinglesOf(string account) =>
        Backends.Where(b => !b.IsPool && string.Equals(b.AccountName, account, StringComparison.OrdinalIgnoreCase));

    /// <summary>The region of the account a single backend is in front of; null when it names none.</summary>
    public string? RegionOf(BackendDefinition backend) =>
        Accounts.FirstOrDefault(a => string.Equals(a.Name, backend.Account, StringComparison.OrdinalIgnoreCase))?.Region
        ?? ContentSafetyAccounts.FirstOrDefault(a => string.Equals(a.Name, backend.ContentSafetyAccount, StringComparison.OrdinalIgnoreCase))?.Region;

    /// <summary>An ISO 8601 duration (<c>PT10S</c>, <c>PT1M</c>, <c>P1D</c>), as the ARM resource writes them.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        try
        {
            duration = XmlConvert.ToTimeSpan(text.Trim());
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private void Validate(string path)
    {
        if (Accounts is null || Accounts.Count == 0)
        {
            throw new ApimArtifactException(path, "no accounts");
        }

        if (Backends is null || Backends.Count == 0)
        {
            throw new ApimArtifactException(path, "no backends");
        }

        var accounts = new Dictionary<string, AccountDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var account in Accounts)
        {
            if (string.IsNullOrWhiteSpace(account.Name) || !accounts.TryAdd(account.Name, account))
            {
                throw new ApimArtifactException(path, $"account name '{account.Name}' is empty or repeated");
            }
        }

        var contentSafetyAccounts = new Dictionary<string, ContentSafetyAccountDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var account in ContentSafetyAccounts)
        {
            ValidateContentSafetyAccount(path, account, accounts, contentSafetyAccounts);
        }

        var backends = new Dictionary<string, BackendDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var backend in Backends)
        {
            if (string.IsNullOrWhiteSpace(backend.Id) || !backends.TryAdd(backend.Id, backend))
            {
                throw new ApimArtifactException(path, $"backend id '{backend.Id}' is empty or repeated");
            }

            if (backend.Type is not null && !backend.IsPool && !string.Equals(backend.Type, BackendDefinition.SingleType, StringComparison.OrdinalIgnoreCase))
            {
                throw new ApimArtifactException(path, $"backend '{backend.Id}' has type '{backend.Type}'; the types are Single and Pool");
            }
        }

        foreach (var backend in Backends)
        {
            if (backend.IsPool)
            {
                ValidatePool(path, backend, backends);
            }
            else
            {
                ValidateSingle(path, backend, accounts, contentSafetyAccounts);
            }
        }
    }

    private static void ValidateContentSafetyAccount(
        string path,
        ContentSafetyAccountDefinition account,
        Dictionary<string, AccountDefinition> accounts,
        Dictionary<string, ContentSafetyAccountDefinition> contentSafetyAccounts)
    {
        if (account is null)
        {
            throw new ApimArtifactException(path, "contentSafetyAccounts holds null; each entry needs name, region and customSubDomain");
        }

        // One name space for both kinds: each account is one Azure resource of the resource group and one local mock.
        if (string.IsNullOrWhiteSpace(account.Name) || accounts.ContainsKey(account.Name) || !contentSafetyAccounts.TryAdd(account.Name, account))
        {
            throw new ApimArtifactException(path, $"content safety account name '{account.Name}' is empty or repeated (Azure OpenAI and Content Safety accounts share one set of names)");
        }

        if (string.IsNullOrWhiteSpace(account.Region))
        {
            throw new ApimArtifactException(path, $"content safety account '{account.Name}' has no region");
        }

        if (string.IsNullOrWhiteSpace(account.CustomSubDomain))
        {
            throw new ApimArtifactException(path, $"content safety account '{account.Name}' has no customSubDomain (its endpoint is https://<customSubDomain>.cognitiveservices.azure.com)");
        }
    }

    private static void ValidateSingle(
        string path,
        BackendDefinition backend,
        Dictionary<string, AccountDefinition> accounts,
        Dictionary<string, ContentSafetyAccountDefinition> contentSafetyAccounts)
    {
        if (!Uri.TryCreate(backend.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ApimArtifactException(path, $"backend '{backend.Id}' has no absolute http or https url");
        }

        AccountDefinition? account = null;
        if (backend.Account is not null && !accounts.TryGetValue(backend.Account, out account))
        {
            throw new ApimArtifactException(path, $"backend '{backend.Id}' names unknown account '{backend.Account}'");
        }

        if (backend.ContentSafetyAccount is { } contentSafety)
        {
            if (backend.Account is not null || backend.Deployment is not null)
            {
                throw new ApimArtifactException(path, $"backend '{backend.Id}' names content safety account '{contentSafety}' and an Azure OpenAI account or deployment; a backend is in front of one account");
            }

            if (!contentSafetyAccounts.ContainsKey(contentSafety))
            {
                var declared = contentSafetyAccounts.Count == 0 ? "contentSafetyAccounts declares none" : "contentSafetyAccounts declares " + string.Join(", ", contentSafetyAccounts.Keys);
                throw new ApimArtifactException(path, $"backend '{backend.Id}' names unknown content safety account '{contentSafety}' ({declared})");
            }
        }

        if (backend.Deployment is not null)
        {
            if (account is null)
            {
                throw new ApimArtifactException(path, $"backend '{backend.Id}' names deployment '{backend.Deployment}' but no account");
            }

            if (!(account.Deployments ?? []).Any(d => string.Equals(d.Name, backend.Deployment, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ApimArtifactException(path, $"backend '{backend.Id}' names deployment '{backend.Deployment}', which account '{account.Name}' does not have");
            }
        }

        if (backend.Pool is not null)
        {
            throw new ApimArtifactException(path, $"backend '{backend.Id}' has a pool but is not of type Pool");
        }

        if (backend.CircuitBreaker is { } breaker)
        {
            ValidateCircuitBreaker(path, backend.Id, breaker);
        }

        if (backend.Credentials is { } credentials)
        {
            ValidateCredentials(path, backend.Id, credentials);
        }
    }

    private static void ValidateCredentials(string path, string id, BackendCredentialsDefinition credentials)
    {
        if (credentials.Certificate is { Count: > 0 } || credentials.CertificateIds is { Count: > 0 })
        {
            throw new ApimArtifactException(path, $"backend '{id}': credentials.certificate and certificateIds (client certificates) are not emulated; remove them for local runs");
        }

        if (credentials.Authorization is { } authorization && string.IsNullOrWhiteSpace(authorization.Scheme))
        {
            throw new ApimArtifactException(path, $"backend '{id}': credentials.authorization needs a scheme");
        }

        if (credentials.ManagedIdentity is { } identity && string.IsNullOrWhiteSpace(identity.Resource))
        {
            throw new ApimArtifactException(path, $"backend '{id}': credentials.managedIdentity needs a resource (the token's audience, such as https://cognitiveservices.azure.com)");
        }

        foreach (var (kind, entries) in new[] { ("header", credentials.Header), ("query", credentials.Query) })
        {
            foreach (var (name, values) in entries ?? new Dictionary<string, IReadOnlyList<string>>())
            {
                if (string.IsNullOrWhiteSpace(name) || values is null || values.Count == 0 || values.Any(v => v is null))
                {
                    throw new ApimArtifactException(path, $"backend '{id}': credentials.{kind} '{name}' needs a name and at least one value");
                }
            }
        }
    }

    private static void ValidateCircuitBreaker(string path, string id, CircuitBreakerDefinition breaker)
    {
        var rules = breaker.Rules ?? [];
        if (rules.Count == 0)
        {
            throw new ApimArtifactException(path, $"backend '{id}': circuitBreaker has no rules");
        }

        if (rules.Count > 1)
        {
            throw new ApimArtifactException(path, $"backend '{id}': circuitBreaker has {rules.Count} rules; API Management allows one");
        }

        var rule = rules[0];
        var where = $"backend '{id}', circuit breaker rule '{rule.Name}'";
        if (rule.FailureCondition is not { } condition)
        {
            throw new ApimArtifactException(path, $"{where} has no failureCondition");
        }

        if ((condition.Count is null) == (condition.Percentage is null))
        {
            throw new ApimArtifactException(path, $"{where}: failureCondition needs exactly one of count and percentage");
        }

        if (condition.Count is < 1)
        {
            throw new ApimArtifactException(path, $"{where}: count must be at least 1, not {condition.Count}");
        }

        if (condition.Percentage is < 1 or > 100)
        {
            throw new ApimArtifactException(path, $"{where}: percentage must be from 1 to 100, not {condition.Percentage}");
        }

        if (!TryParseDuration(condition.Interval, out var interval) || interval <= TimeSpan.Zero)
        {
            throw new ApimArtifactException(path, $"{where}: interval '{condition.Interval}' is not a positive ISO 8601 duration (such as PT10S)");
        }

        var ranges = condition.StatusCodeRanges ?? [];
        if (ranges.Count > MaxStatusCodeRanges)
        {
            throw new ApimArtifactException(path, $"{where} has {ranges.Count} statusCodeRanges; API Management allows {MaxStatusCodeRanges}");
        }

        foreach (var range in ranges)
        {
            if (range.Min is < 200 or > 599 || range.Max is < 200 or > 599 || range.Min > range.Max)
            {
                throw new ApimArtifactException(path, $"{where}: status code range {range.Min}-{range.Max} must lie within 200-599 with min no greater than max");
            }
        }

        var reasons = condition.ErrorReasons ?? [];
        if (reasons.Count > MaxErrorReasons)
        {
            throw new ApimArtifactException(path, $"{where} has {reasons.Count} errorReasons; API Management allows {MaxErrorReasons}");
        }

        if (reasons.Any(r => string.IsNullOrWhiteSpace(r) || r.Length > MaxErrorReasonLength))
        {
            throw new ApimArtifactException(path, $"{where}: an error reason is empty or longer than {MaxErrorReasonLength} characters");
        }

        if (ranges.Count == 0 && reasons.Count == 0)
        {
            throw new ApimArtifactException(path, $"{where} has neither statusCodeRanges nor errorReasons, so nothing counts as a failure");
        }

        if (!TryParseDuration(rule.TripDuration, out var trip) || trip <= TimeSpan.Zero)
        {
            throw new ApimArtifactException(path, $"{where}: tripDuration '{rule.TripDuration}' is not a positive ISO 8601 duration (such as PT1M)");
        }
    }

    private static void ValidateSessionAffinity(string path, string id, SessionAffinityDefinition affinity)
    {
        if (affinity.SessionId is not { } sessionId)
        {
            throw new ApimArtifactException(path, $"pool '{id}': sessionAffinity has no sessionId (source Cookie and a cookie name)");
        }

        if (!string.Equals(sessionId.Source, SessionIdDefinition.CookieSource, StringComparison.OrdinalIgnoreCase))
        {
            throw new ApimArtifactException(path, $"pool '{id}': sessionAffinity.sessionId.source is '{sessionId.Source}'; the only source is Cookie");
        }

        if (!SessionIdDefinition.IsCookieName(sessionId.Name))
        {
            throw new ApimArtifactException(path, $"pool '{id}': sessionAffinity.sessionId.name '{sessionId.Name}' is not a cookie name (letters, digits and !#$%&'*+-.^_`|~ only)");
        }
    }

    private static void ValidatePool(string path, BackendDefinition pool, Dictionary<string, BackendDefinition> backends)
    {
        if (pool.Account is not null || pool.Deployment is not null || pool.ContentSafetyAccount is not null)
        {
            throw new ApimArtifactException(path, $"pool '{pool.Id}' names an account or deployment; its members do");
        }

        if (pool.CircuitBreaker is not null)
        {
            throw new ApimArtifactException(path, $"pool '{pool.Id}' has a circuit breaker; breakers belong to its single backends");
        }

        if (pool.Credentials is not null)
        {
            throw new ApimArtifactException(path, $"pool '{pool.Id}' has credentials; credentials belong to its single backends");
        }

        if (pool.Pool?.SessionAffinity is { } affinity)
        {
            ValidateSessionAffinity(path, pool.Id, affinity);
        }

        var services = pool.Pool?.Services ?? [];
        if (services.Count == 0)
        {
            throw new ApimArtifactException(path, $"pool '{pool.Id}' has no pool.services");
        }

        if (services.Count > MaxPoolMembers)
        {
            throw new ApimArtifactException(path, $"pool '{pool.Id}' has {services.Count} members; API Management allows {MaxPoolMembers}");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var service in services)
        {
            var id = service.BackendId;
            if (!backends.TryGetValue(id, out var member))
            {
                throw new ApimArtifactException(path, $"pool '{pool.Id}' names unknown backend '{service.Id}'");
            }

            if (member.IsPool)
            {
                throw new ApimArtifactException(path, $"pool '{pool.Id}' contains pool '{member.Id}'; a pool holds single backends only");
            }

            if (!seen.Add(id))
            {
                throw new ApimArtifactException(path, $"pool '{pool.Id}' lists backend '{id}' twice");
            }

            if (service.Priority is < 0 or > 100)
            {
                throw new ApimArtifactException(path, $"pool '{pool.Id}': priority of '{id}' must be from 0 to 100, not {service.Priority}");
            }

            if (service.Weight is < 0 or > 100)
            {
                throw new ApimArtifactException(path, $"pool '{pool.Id}': weight of '{id}' must be from 0 to 100, not {service.Weight}");
            }
        }
    }
}

/// <summary>An Azure OpenAI account (a Cognitive Services account of kind OpenAI) in one region.</summary>
internal sealed record AccountDefinition(string Name, string Region, string CustomSubDomain, IReadOnlyList<DeploymentDefinition> Deployments);

/// <summary>
/// An Azure AI Content Safety account (a Cognitive Services account of kind ContentSafety) in one region; its endpoint is
/// <c>https://{customSubDomain}.cognitiveservices.azure.com</c>.
/// </summary>
internal sealed record ContentSafetyAccountDefinition(string Name, string Region, string CustomSubDomain);

/// <summary>A model deployment of an account; SKU capacity is in thousands of tokens per minute.</summary>
internal sealed record DeploymentDefinition(string Name, ModelDefinition Model, SkuDefinition Sku);

/// <summary>The deployed model.</summary>
internal sealed record ModelDefinition(string Format, string Name, string Version);

/// <summary>The deployment SKU (Standard, GlobalStandard, ...) and its capacity.</summary>
internal sealed record SkuDefinition(string Name, int Capacity);

/// <summary>
/// An API Management backend entity: of type Single (a URL in front of an Azure OpenAI account, or one deployment of it,
/// or of a Content Safety account, with at most one circuit-breaker rule) or Pool (single backends by priority and
/// weight). <c>account</c>, <c>deployment</c> and <c>contentSafetyAccount</c> are this project's, not API Management's.
/// </summary>
internal sealed record BackendDefinition(
    string Id,
    string? Type,
    string? Account,
    string? Deployment,
    string? Protocol,
    string? Url,
    string? Description,
    CircuitBreakerDefinition? CircuitBreaker,
    BackendPoolDefinition? Pool,
    BackendCredentialsDefinition? Credentials = null,
    string? ContentSafetyAccount = null)
{
    public const string SingleType = "Single";

    public const string PoolType = "Pool";

    public bool IsPool => string.Equals(Type, PoolType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The account this backend is in front of, of either kind; null for a pool or a backend that names none.</summary>
    public string? AccountName => Account ?? ContentSafetyAccount;

    /// <summary>
    /// The path of the URL, without a trailing slash (<c>/openai</c>; empty for an account's root): what a local stand-in
    /// keeps when it takes the place of the URL's host (the AppHost points the backend at its mock plus this path).
    /// </summary>
    public string UrlPath => Uri.TryCreate(Url, UriKind.Absolute, out var url) ? url.AbsolutePath.TrimEnd('/') : string.Empty;
}

/// <summary>
/// What API Management adds to every request it sends to a single backend (the ARM resource's <c>credentials</c>): headers
/// and query parameters (values may name named values, <c>{{name}}</c>), an <c>Authorization</c> header from
/// <c>authorization</c> (<c>scheme</c>, <c>parameter</c>) or a managed-identity token for <c>managedIdentity.resource</c>
/// (user-assigned with <c>clientId</c>). Client certificates (<c>certificate</c>, <c>certificateIds</c>) are not emulated.
/// </summary>
internal sealed record BackendCredentialsDefinition(
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Header,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Query,
    AuthorizationCredentialDefinition? Authorization,
    ManagedIdentityCredentialDefinition? ManagedIdentity,
    IReadOnlyList<string>? Certificate,
    IReadOnlyList<string>? CertificateIds);

/// <summary>An <c>Authorization</c> header, <c>scheme parameter</c>.</summary>
internal sealed record AuthorizationCredentialDefinition(string? Scheme, string? Parameter);

/// <summary>A token of the gateway's managed identity for <c>resource</c>.</summary>
internal sealed record ManagedIdentityCredentialDefinition(string? Resource, string? ClientId);

/// <summary>A backend's circuit breaker: API Management allows one rule.</summary>
internal sealed record CircuitBreakerDefinition(IReadOnlyList<CircuitBreakerRuleDefinition>? Rules);

/// <summary>When the breaker trips and for how long (ISO 8601 durations).</summary>
internal sealed record CircuitBreakerRuleDefinition(string? Name, FailureConditionDefinition? FailureCondition, string? TripDuration, bool? AcceptRetryAfter);

/// <summary>How many failures (<c>count</c>) or which share of requests (<c>percentage</c>) within <c>interval</c> trip the breaker.</summary>
internal sealed record FailureConditionDefinition(
    long? Count,
    long? Percentage,
    string? Interval,
    IReadOnlyList<StatusCodeRangeDefinition>? StatusCodeRanges,
    IReadOnlyList<string>? ErrorReasons);

/// <summary>Response statuses from <c>min</c> to <c>max</c> (inclusive) that count as failures.</summary>
internal sealed record StatusCodeRangeDefinition(int Min, int Max);

/// <summary>The members of a pool and, optionally, its session affinity.</summary>
internal sealed record BackendPoolDefinition(IReadOnlyList<BackendPoolMemberDefinition>? Services, SessionAffinityDefinition? SessionAffinity = null);

/// <summary>
/// A member of a pool: a single backend's id (or its ARM id, <c>.../backends/{id}</c>), its priority (lower first) and
/// weight, each from 0 to 100.
/// </summary>
internal sealed record BackendPoolMemberDefinition(string Id, int? Priority, int? Weight)
{
    private const string BackendsSegment = "/backends/";

    /// <summary>The backend id, without the ARM prefix an id copied from a Bicep file carries.</summary>
    public string BackendId
    {
        get
        {
            var id = Id ?? string.Empty;
            var at = id.LastIndexOf(BackendsSegment, StringComparison.OrdinalIgnoreCase);
            return at < 0 ? id : id[(at + BackendsSegment.Length)..];
        }
    }
}
