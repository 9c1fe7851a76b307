namespace Gateway.Policies;

/// <summary>
/// Every <c>context.LastError.Reason</c> the gateway raises. The text is what on-error expressions, circuit breakers'
/// <c>errorReasons</c> and logs see, so it is API Management's where API Management names the failure.
/// </summary>
internal static class ErrorReasons
{
    // Expressions and the runner.

    /// <summary>An expression failed, or an attribute's value (literal or computed) is not one the element accepts.</summary>
    public const string ExpressionValueEvaluationFailure = "ExpressionValueEvaluationFailure";

    /// <summary>An element failed with an exception of its own rather than a policy error.</summary>
    public const string UnexpectedError = "UnexpectedError";

    // Forwarding and outgoing requests.

    /// <summary>The backend (or a send-request destination) could not be reached, or its response could not be read.</summary>
    public const string BackendConnectionFailure = "BackendConnectionFailure";

    /// <summary>The client's request body could not be read while forwarding it.</summary>
    public const string ClientConnectionFailure = "ClientConnectionFailure";

    /// <summary><c>forward-request</c>'s timeout (or the idle timeout) passed before the backend's response arrived.</summary>
    public const string Timeout = "Timeout";

    /// <summary>The backend answered 4xx or 5xx and <c>fail-on-error-status-code</c> is true.</summary>
    public const string BackendResponseStatusCode = "BackendResponseStatusCode";

    /// <summary>A request would be forwarded (or copied) but no backend URL is set.</summary>
    public const string BackendNotSet = "BackendNotSet";

    /// <summary>The single backend's circuit breaker is tripped, or every member of the pool's is.</summary>
    public const string BackendUnavailable = "BackendUnavailable";

    /// <summary><c>set-backend-service</c> names a backend id that does not exist.</summary>
    public const string BackendNotFound = "BackendNotFound";

    /// <summary><c>set-backend-service</c>'s <c>base-url</c> is not an absolute http or https URL.</summary>
    public const string InvalidBaseUrl = "InvalidBaseUrl";

    /// <summary>A managed identity token for a backend, a send-request or <c>authentication-managed-identity</c> could not be had.</summary>
    public const string ManagedIdentityTokenFailure = "ManagedIdentityTokenFailure";

    /// <summary>A send-request's <c>set-url</c> is not an absolute http or https URL.</summary>
    public const string InvalidUrl = "InvalidUrl";

    /// <summary>A send-request with mode new lacks <c>set-url</c> or <c>set-method</c>.</summary>
    public const string InvalidRequest = "InvalidRequest";

    /// <summary><c>return-response</c>'s <c>response-variable-name</c> holds no response.</summary>
    public const string ResponseVariableNotFound = "ResponseVariableNotFound";

    // Rate limits, quotas and concurrency.

    /// <summary><c>rate-limit</c> or <c>rate-limit-by-key</c> refused a call over the limit.</summary>
    public const string RateLimitExceeded = "RateLimitExceeded";

    /// <summary><c>quota</c> or <c>quota-by-key</c> refused a call over the quota.</summary>
    public const string QuotaExceeded = "QuotaExceeded";

    /// <summary>A token limit refused a request over its tokens per minute.</summary>
    public const string OpenAITokenLimitExceeded = "OpenAITokenLimitExceeded";

    /// <summary>A token limit refused a request over its token quota for the period.</summary>
    public const string OpenAITokenQuotaExceeded = "OpenAITokenQuotaExceeded";

    /// <summary><c>limit-concurrency</c> refused a request over its <c>max-count</c>.</summary>
    public const string ConcurrencyLimitExceeded = "ConcurrencyLimitExceeded";

    /// <summary>A rate limit's <c>calls</c> or <c>renewal-period</c> is not a positive whole number.</summary>
    public const string InvalidRateLimit = "InvalidRateLimit";

    /// <summary>A quota's <c>increment-count</c> is not a whole number of 0 or more.</summary>
    public const string InvalidIncrementCount = "InvalidIncrementCount";

    /// <summary>A token limit's <c>token-quota</c> is not a whole number of 1 or more.</summary>
    public const string InvalidTokenQuota = "InvalidTokenQuota";

    /// <summary>A token limit's <c>token-quota-period</c> is not Hourly, Daily, Weekly, Monthly or Yearly.</summary>
    public const string InvalidTokenQuotaPeriod = "InvalidTokenQuotaPeriod";

    // Token validation and check-header.

    /// <summary><c>validate-jwt</c> or <c>validate-azure-ad-token</c> found no token.</summary>
    public const string TokenNotPresent = "TokenNotPresent";

    /// <summary>The token is not a JWT, or the library rejected it for a reason without a name of its own.</summary>
    public const string JwtInvalid = "JwtInvalid";

    /// <summary>The token has expired.</summary>
    public const string TokenExpired = "TokenExpired";

    /// <summary>The token's audience is not one of those allowed.</summary>
    public const string TokenAudienceNotAllowed = "TokenAudienceNotAllowed";

    /// <summary>The token's issuer is not one of those allowed.</summary>
    public const string TokenIssuerNotAllowed = "TokenIssuerNotAllowed";

    /// <summary>The signed token names a key that none of the keys has (or there are no keys).</summary>
    public const string TokenSignatureKeyNotFound = "TokenSignatureKeyNotFound";

    /// <summary>The token's signature does not verify.</summary>
    public const string TokenSignatureInvalid = "TokenSignatureInvalid";

    /// <summary>The token lacks a required claim.</summary>
    public const string TokenClaimNotFound = "TokenClaimNotFound";

    /// <summary>A required claim does not hold the values required.</summary>
    public const string TokenClaimValueNotAllowed = "TokenClaimValueNotAllowed";

    /// <summary><c>validate-azure-ad-token</c>: the token's client application is not one of those allowed.</summary>
    public const string TokenClientApplicationNotAllowed = "TokenClientApplicationNotAllowed";

    /// <summary><c>check-header</c>: the request lacks the header.</summary>
    public const string HeaderNotFound = "HeaderNotFound";

    /// <summary><c>check-header</c>: none of the header's values is allowed.</summary>
    public const string HeaderValueNotAllowed = "HeaderValueNotAllowed";

    // The credential manager (get-authorization-context).

    /// <summary>No connection of that id under that provider (nor the provider).</summary>
    public const string ConnectionNotFound = "ConnectionNotFound";

    /// <summary>The connection is in an error state.</summary>
    public const string ConnectionError = "ConnectionError";

    /// <summary>The identity may not use the connection, or its token is not one the credential manager accepts.</summary>
    public const string PermissionDenied = "PermissionDenied";

    // Values an element computes at run time.

    /// <summary><c>set-header</c>'s name is not a valid header name.</summary>
    public const string InvalidHeaderName = "InvalidHeaderName";

    /// <summary><c>set-header</c>'s value holds a control or non-ASCII character.</summary>
    public const string InvalidHeaderValue = "InvalidHeaderValue";

    /// <summary><c>set-query-parameter</c>'s name is empty.</summary>
    public const string InvalidQueryParameterName = "InvalidQueryParameterName";

    /// <summary><c>set-method</c>'s value is not an HTTP method.</summary>
    public const string InvalidMethod = "InvalidMethod";

    /// <summary><c>set-status</c>'s code is not an HTTP status code.</summary>
    public const string InvalidStatusCode = "InvalidStatusCode";

    /// <summary><c>rewrite-uri</c>'s template names a parameter that is neither a URL template parameter nor a query parameter.</summary>
    public const string TemplateParameterNotFound = "TemplateParameterNotFound";

    /// <summary><c>cache-store-value</c>'s duration is not a whole number of seconds.</summary>
    public const string InvalidDuration = "InvalidDuration";

    /// <summary><c>emit-metric</c>'s value is not a number.</summary>
    public const string InvalidMetricValue = "InvalidMetricValue";

    /// <summary><c>retry</c>'s <c>first-fast-retry</c> is not true or false.</summary>
    public const string InvalidFirstFastRetry = "InvalidFirstFastRetry";

    /// <summary>A <c>retry</c> count or interval is not a whole number in its range.</summary>
    public const string InvalidRetryAttribute = "InvalidRetryAttribute";
}
