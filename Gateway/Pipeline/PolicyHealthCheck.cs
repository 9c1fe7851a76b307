using Gateway.Apim;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Pipeline;

/// <summary>Healthy once the policies are loaded and compiled.</summary>
internal sealed class PolicyHealthCheck(GatewayArtifacts artifacts) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy($"{artifacts.Router.Routes.Count} API(s) loaded from {artifacts.ApimPath}"));
}
