using System.Collections.Concurrent;
using Gateway.Telemetry;

namespace Gateway.Backends;

/// <summary>
/// The circuit breakers of this gateway instance (API Management keeps breaker state per instance), one per backend
/// that has a rule. A breaker outlives reloads of <c>apim/</c> as long as its backend's rule stays the same.
/// </summary>
internal sealed partial class CircuitBreakers(TimeProvider time, ILogger<CircuitBreakers> logger, GenAIMetrics? metrics = null) : Admin.IResettableState
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a backend may get a request now (true when it has no breaker); made once, not per request.</summary>
    public Func<Backend, bool> IsAvailable => field ??= backend => For(backend)?.IsAvailable(out _) ?? true;

    /// <summary>The breaker of <paramref name="backend"/>; null when it has no circuit-breaker rule.</summary>
    public CircuitBreaker? For(Backend backend)
    {
        if (backend.BreakerRule is not { } rule)
        {
            return null;
        }

        return _breakers.TryGetValue(backend.Id, out var existing) && existing.Rule.Key == rule.Key
            ? existing
            : _breakers.AddOrUpdate(backend.Id, _ => Create(backend.Id, rule), (_, current) => current.Rule.Key == rule.Key ? current : Create(backend.Id, rule));
    }

    public string Name => "circuit-breakers";

    public Admin.StateScope Scope => Admin.StateScope.Breakers;

    public int Count => _breakers.Count;

    /// <summary>Each backend's breaker as it stands now, by backend id: closed, or tripped until when and why.</summary>
    public IReadOnlyList<BreakerState> Snapshot() =>
    [
        .. _breakers.OrderBy(b => b.Key, StringComparer.OrdinalIgnoreCase)
            .Select(b => b.Value.CurrentTrip is { } trip ? new BreakerState(b.Key, "open", trip.Until, trip) : new BreakerState(b.Key, "closed", null, null)),
    ];

    /// <summary>The trip in force on <paramref name="backendId"/>'s breaker; null when it is closed or has none yet.</summary>
    public BreakerTrip? TripOf(string backendId) => _breakers.TryGetValue(backendId, out var breaker) ? breaker.CurrentTrip : null;

    /// <summary>Closes every breaker: each backend starts again with no failures counted.</summary>
    public void Reset() => _breakers.Clear();

    private CircuitBreaker Create(string backendId, CircuitBreakerRule rule) =>
        new(
            rule,
            time,
            until =>
            {
                Log.Tripped(logger, backendId, rule.Name, until);
                metrics?.BreakerChanged(backendId, "open");
            },
            () => metrics?.BreakerChanged(backendId, "closed"));

    private static partial class Log
    {
        [LoggerMessage(LogEvents.CircuitBreakerTripped, LogLevel.Warning, "Backend {BackendId}: circuit breaker rule {Rule} tripped; no requests until {Until:O}")]
        public static partial void Tripped(ILogger logger, string backendId, string? rule, DateTimeOffset until);
    }
}

/// <summary>A backend's circuit breaker in <c>GET /_gateway/admin/state</c>: <c>closed</c>, or <c>open</c> until <see cref="TrippedUntil"/> because of <see cref="Trip"/>.</summary>
internal sealed record BreakerState(string BackendId, string State, DateTimeOffset? TrippedUntil, BreakerTrip? Trip);
