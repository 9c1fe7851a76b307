using Gateway.Backends;
using Gateway.Caching;
using Gateway.Forwarding;
using Gateway.Identity;

namespace Gateway.Pipeline;

/// <summary>The singletons policy elements call at run time.</summary>
internal sealed class GatewayServices(
    Apim.ArtifactsProvider artifacts,
    BackendForwarder forwarder,
    IManagedIdentityTokenProvider tokens,
    TimeProvider time,
    RandomSource random,
    PolicyCache cache,
    SemanticCache semanticCache,
    RateLimiting.RateLimitCounters rateLimits,
    RateLimiting.QuotaCounters quotas,
    RateLimiting.ConcurrencyLimits concurrency,
    CircuitBreakers circuitBreakers,
    SessionCookies sessionCookies,
    RateLimiting.TokenLimits tokenLimits,
    Telemetry.PolicyMetrics metrics,
    Telemetry.GenAIMetrics genAIMetrics,
    Microsoft.Extensions.Options.IOptions<Telemetry.GenAIOptions> genAIOptions,
    Telemetry.BackendTraffic traffic,
    OpenIdConfigurationCache openIdConfigurations,
    SendRequestClient sendRequests,
    Credentials.CredentialManager credentials,
    Microsoft.Extensions.Options.IOptions<IdentityOptions> identity,
    ILoggerFactory loggers)
{
    public Telemetry.PolicyMetrics Metrics { get; } = metrics;

    /// <summary>The model-call metrics of <c>forward-request</c>'s tries (Telemetry/GenAIRequest).</summary>
    public Telemetry.GenAIMetrics GenAIMetrics { get; } = genAIMetrics;

    /// <summary>What the GenAI spans record (message content or not).</summary>
    public Telemetry.GenAIOptions GenAIOptions { get; } = genAIOptions.Value;

    /// <summary>Each backend's answers in the last minute, for the gateway page.</summary>
    public Telemetry.BackendTraffic Traffic { get; } = traffic;

    /// <summary>Where <c>trace</c> writes.</summary>
    public ILogger TraceLog { get; } = loggers.CreateLogger("Gateway.Policies.Trace");

    /// <summary>Where <c>log-to-eventhub</c> messages go: there is no event hub locally.</summary>
    public ILogger EventHubLog { get; } = loggers.CreateLogger("Gateway.Policies.EventHub");

    public RateLimiting.RateLimitCounters RateLimits { get; } = rateLimits;

    public RateLimiting.QuotaCounters Quotas { get; } = quotas;

    public RateLimiting.ConcurrencyLimits Concurrency { get; } = concurrency;

    /// <summary>The token windows and quotas of the token-limit policies.</summary>
    public RateLimiting.TokenLimits TokenLimits { get; } = tokenLimits;

    public PolicyCache Cache { get; } = cache;

    /// <summary>The vector store of the semantic cache policies.</summary>
    public SemanticCache SemanticCache { get; } = semanticCache;

    public RandomSource Random { get; } = random;

    public BackendRegistry Backends => artifacts.Backends;

    /// <summary>The backends' circuit breakers, kept for the life of the gateway instance.</summary>
    public CircuitBreakers CircuitBreakers { get; } = circuitBreakers;

    /// <summary>The session cookies of pools with session affinity.</summary>
    public SessionCookies SessionCookies { get; } = sessionCookies;

    public BackendForwarder Forwarder { get; } = forwarder;

    /// <summary>Tokens of the gateway's managed identity (<c>authentication-managed-identity</c>, backend credentials).</summary>
    public IManagedIdentityTokenProvider ManagedIdentity { get; } = tokens;

    /// <summary>What <c>send-request</c> and <c>send-one-way-request</c> send with.</summary>
    public SendRequestClient SendRequests { get; } = sendRequests;

    /// <summary>The credential manager connections <c>get-authorization-context</c> reads.</summary>
    public Credentials.CredentialManager Credentials { get; } = credentials;

    public TimeProvider Time { get; } = time;

    /// <summary>The keys of <c>validate-jwt</c>'s <c>openid-config</c> documents and of <c>validate-azure-ad-token</c>'s tenants.</summary>
    public OpenIdConfigurationCache OpenIdConfigurations { get; } = openIdConfigurations;

    /// <summary>Where <c>validate-azure-ad-token</c> reads tenants' OpenID configurations instead of the policy's endpoint (<c>Identity:EntraAuthority</c>); null for the policy's.</summary>
    public string? EntraAuthority { get; } = identity.Value.EntraAuthority?.TrimEnd('/');

    /// <summary>The apim folder in force, which local files (such as OpenID configuration documents) are read from.</summary>
    public string ApimPath => artifacts.Current.ApimPath;
}
