using Gateway.Backends;
using Gateway.Telemetry;

namespace Gateway.Admin.Page;

/// <summary>A single backend on the page: its breaker (<c>none</c> without a rule, <c>closed</c>, or <c>open</c> with the trip) and its traffic.</summary>
internal sealed record PageBackend(string Id, string? Region, string Breaker, BreakerTrip? Trip, BackendTrafficSummary Traffic);
