using System.Diagnostics.CodeAnalysis;
using Gateway.Policies.Elements;

namespace Gateway.Policies;

/// <summary>Every supported policy element, the sections it may appear in (as API Management documents them) and its parser.</summary>
internal static class PolicyElements
{
    private static readonly PolicySection[] Anywhere = [PolicySection.Inbound, PolicySection.Backend, PolicySection.Outbound, PolicySection.OnError];
    private static readonly PolicySection[] RequestSections = [PolicySection.Inbound, PolicySection.Backend];
    private static readonly string[] SemanticCacheLookupAttributes = ["score-threshold", "embeddings-backend-id", "embeddings-backend-auth", "ignore-system-messages", "max-message-count"];
    private static readonly string[] TokenLimitAttributes = ["counter-key", "tokens-per-minute", "token-quota", "token-quota-period", "estimate-prompt-tokens", "retry-after-header-name", "retry-after-variable-name", "remaining-tokens-header-name", "remaining-tokens-variable-name", "remaining-quota-tokens-header-name", "remaining-quota-tokens-variable-name", "tokens-consumed-header-name", "tokens-consumed-variable-name"];

    private static readonly Dictionary<string, ElementDefinition> Definitions = new(StringComparer.Ordinal)
    {
        // The reference lists inbound only; Microsoft's deployed samples also get tokens in outbound (docs/fidelity.md).
        ["authentication-managed-identity"] = new(AuthenticationManagedIdentityPolicy.Parse, [PolicySection.Inbound, PolicySection.Outbound], ["resource", "client-id", "output-token-variable-name", "ignore-error"]),
        ["azure-openai-emit-token-metric"] = new(EmitTokenMetricPolicy.Parse, [PolicySection.Inbound], ["namespace"]),
        ["azure-openai-semantic-cache-lookup"] = new(SemanticCacheLookupPolicy.Parse, [PolicySection.Inbound], SemanticCacheLookupAttributes),
        ["azure-openai-semantic-cache-store"] = new(reader => SemanticCacheStorePolicy.Parse(reader, withCacheResponse: false), [PolicySection.Outbound], ["duration"]),
        ["azure-openai-token-limit"] = new(reader => TokenLimitPolicy.Parse(reader, quotaExpressions: false), [PolicySection.Inbound], TokenLimitAttributes),
        ["base"] = new(BasePolicy.Parse, Anywhere, []),
        ["cache-lookup-value"] = new(CacheLookupValuePolicy.Parse, Anywhere, ["key", "variable-name", "default-value", "caching-type"]),
        ["cache-remove-value"] = new(CacheRemoveValuePolicy.Parse, Anywhere, ["key", "caching-type"]),
        ["cache-store-value"] = new(CacheStoreValuePolicy.Parse, Anywhere, ["key", "value", "duration", "caching-type"]),
        ["check-header"] = new(CheckHeaderPolicy.Parse, [PolicySection.Inbound], ["name", "failed-check-httpcode", "failed-check-error-message", "ignore-case"]),
        ["choose"] = new(ChoosePolicy.Parse, Anywhere, []),
        ["cors"] = new(CorsPolicy.Parse, [PolicySection.Inbound], ["allow-credentials", "terminate-unmatched-request"]),
        ["emit-metric"] = new(EmitMetricPolicy.Parse, Anywhere, ["name", "value", "namespace"]),
        ["forward-request"] = new(ForwardRequestPolicy.Parse, [PolicySection.Backend], ["timeout", "timeout-ms", "buffer-request-body", "buffer-response", "fail-on-error-status-code", "follow-redirects", "http-version"]),
        ["get-authorization-context"] = new(GetAuthorizationContextPolicy.Parse, [PolicySection.Inbound], ["provider-id", "authorization-id", "context-variable-name", "identity-type", "identity", "ignore-error"]),
        ["include-fragment"] = new(IncludeFragmentPolicy.Parse, Anywhere, ["fragment-id"]),
        ["limit-concurrency"] = new(LimitConcurrencyPolicy.Parse, Anywhere, ["key", "max-count"]),
        // The reference lists global, workspace, product and API scopes (not operation); window-size and
        // window-overlap-size are refused by the parser (one window).
        ["llm-content-safety"] = new(LlmContentSafetyPolicy.Parse, [PolicySection.Inbound, PolicySection.Outbound], ["backend-id", "shield-prompt", "enforce-on-completions", "window-size", "window-overlap-size"], [PolicyScope.Global, PolicyScope.Product, PolicyScope.Api]),
        ["llm-emit-token-metric"] = new(EmitTokenMetricPolicy.Parse, [PolicySection.Inbound], ["namespace"]),
        ["llm-semantic-cache-lookup"] = new(SemanticCacheLookupPolicy.Parse, [PolicySection.Inbound], SemanticCacheLookupAttributes),
        ["llm-semantic-cache-store"] = new(reader => SemanticCacheStorePolicy.Parse(reader, withCacheResponse: true), [PolicySection.Outbound], ["duration", "cache-response"]),
        ["llm-token-limit"] = new(reader => TokenLimitPolicy.Parse(reader, quotaExpressions: true), [PolicySection.Inbound], TokenLimitAttributes),
        ["log-to-eventhub"] = new(LogToEventHubPolicy.Parse, Anywhere, ["logger-id", "partition-id", "partition-key"]),
        ["mock-response"] = new(MockResponsePolicy.Parse, [PolicySection.Inbound, PolicySection.Outbound, PolicySection.OnError], ["status-code", "content-type"]),
        ["quota"] = new(QuotaPolicy.ParseBySubscription, [PolicySection.Inbound], ["calls", "bandwidth", "renewal-period"], [PolicyScope.Product]),
        ["quota-by-key"] = new(QuotaPolicy.ParseByKey, [PolicySection.Inbound], ["calls", "bandwidth", "renewal-period", "counter-key", "increment-condition", "increment-count", "first-period-start"]),
        ["rate-limit"] = new(RateLimitPolicy.ParseBySubscription, [PolicySection.Inbound], ["calls", "renewal-period", "retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name", "remaining-calls-variable-name", "total-calls-header-name"], [PolicyScope.Product, PolicyScope.Api, PolicyScope.Operation]),
        ["rate-limit-by-key"] = new(RateLimitPolicy.ParseByKey, [PolicySection.Inbound], ["calls", "renewal-period", "counter-key", "increment-condition", "increment-count", "retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name", "remaining-calls-variable-name", "total-calls-header-name"]),
        ["retry"] = new(RetryPolicy.Parse, Anywhere, ["condition", "count", "interval", "max-interval", "delta", "first-fast-retry"]),
        ["return-response"] = new(ReturnResponsePolicy.Parse, Anywhere, ["response-variable-name"]),
        ["rewrite-uri"] = new(RewriteUriPolicy.Parse, [PolicySection.Inbound], ["template", "copy-unmatched-params"]),
        ["send-one-way-request"] = new(SendOneWayRequestPolicy.Parse, Anywhere, ["mode", "timeout"]),
        ["send-request"] = new(SendRequestPolicy.Parse, Anywhere, ["mode", "response-variable-name", "timeout", "ignore-error"]),
        ["set-backend-service"] = new(SetBackendServicePolicy.Parse, RequestSections, ["base-url", "backend-id"]),
        ["set-body"] = new(SetBodyPolicy.Parse, Anywhere, ["template"]),
        ["set-header"] = new(SetHeaderPolicy.Parse, Anywhere, ["name", "exists-action"]),
        ["set-method"] = new(SetMethodPolicy.Parse, [PolicySection.Inbound, PolicySection.OnError], []),
        ["set-query-parameter"] = new(SetQueryParameterPolicy.Parse, RequestSections, ["name", "exists-action"]),
        ["set-status"] = new(SetStatusPolicy.Parse, Anywhere, ["code", "reason"]),
        ["set-variable"] = new(SetVariablePolicy.Parse, Anywhere, ["name", "value"]),
        ["trace"] = new(TracePolicy.Parse, Anywhere, ["source", "severity"]),
        ["validate-azure-ad-token"] = new(ValidateAzureAdTokenPolicy.Parse, [PolicySection.Inbound], ["tenant-id", "header-name", "query-parameter-name", "token-value", "authentication-endpoint", "failed-validation-httpcode", "failed-validation-error-message", "output-token-variable-name"]),
        ["validate-jwt"] = new(ValidateJwtPolicy.Parse, [PolicySection.Inbound], ["header-name", "query-parameter-name", "token-value", "failed-validation-httpcode", "failed-validation-error-message", "require-expiration-time", "require-scheme", "require-signed-tokens", "clock-skew", "output-token-variable-name"]),
    };

    public static IEnumerable<string> Names => Definitions.Keys.Order(StringComparer.Ordinal);

    /// <summary>Every supported element with its supported attributes.</summary>
    public static IEnumerable<(string Element, IReadOnlyList<string> Attributes)> Registry =>
        Names.Select(name => (name, (IReadOnlyList<string>)Definitions[name].Attributes));

    public static bool TryGet(string name, [NotNullWhen(true)] out ElementDefinition? definition) => Definitions.TryGetValue(name, out definition);
}

/// <summary>How to parse an element and where it may appear.</summary>
/// <param name="Parse">Reads the element; it may read only the attributes listed in <paramref name="Attributes"/>.</param>
/// <param name="Sections">The sections the element may appear in.</param>
/// <param name="Attributes">The attributes the gateway supports on the element (besides <c>id</c>), with API Management's semantics.</param>
/// <param name="Scopes">The scopes API Management allows the element in; null for all.</param>
internal sealed record ElementDefinition(Func<ElementReader, PolicyElement?> Parse, PolicySection[] Sections, string[] Attributes, PolicyScope[]? Scopes = null);
