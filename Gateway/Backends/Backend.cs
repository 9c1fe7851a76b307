using Gateway.Apim.Model;

namespace Gateway.Backends;

/// <summary>A backend entity of type Single: the URL this gateway uses for it and, when it has them, its circuit-breaker rule and credentials.</summary>
internal sealed class Backend(string id, Uri url, string? azureRegion = null, CircuitBreakerRule? breakerRule = null, BackendCredentials? credentials = null) : BackendEntity(id, azureRegion)
{
    public override string Type => BackendDefinition.SingleType;

    public BackendTarget Target { get; } = new(id, url, credentials);

    public CircuitBreakerRule? BreakerRule { get; } = breakerRule;
}
