namespace Gateway.Admin;

/// <summary>
/// What <c>GET /_gateway/admin/state</c> answers: every registered state with its entries, each backend's circuit
/// breaker, and the sums of the token metrics emitted so far.
/// </summary>
internal sealed record StateResult(
    IReadOnlyList<StateEntry> States,
    IReadOnlyList<Backends.BreakerState> Breakers,
    IReadOnlyList<Telemetry.TokenMetricTotal> TokenMetrics);
