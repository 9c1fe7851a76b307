using Gateway.Apim;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Pipeline;

/// <summary>Healthy once the policies are loaded and compiled.</summary>
internal sealed class PolicyHealthCheck(ArtifactsProvider artifacts) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(artifacts.ReloadError is { } error
            ? HealthCheckResult.Degraded("The edited artefacts do not load; the previous version keeps running: " + error)
            : HealthCheckResult.Healthy($"{artifacts.Current.Router.Routes.Count} API(s) loaded from {artifacts.Current.ApimPath}"));
}
