namespace Gateway.Backends;

/// <summary>
/// Why and until when a circuit breaker is tripped: the failure that tripped it (a response status, or a forwarding
/// error's <c>context.LastError.Reason</c>), whether the trip's length came from the response's Retry-After (or
/// retry-after-ms) rather than the rule's <c>tripDuration</c>, and the rule's name.
/// </summary>
internal sealed record BreakerTrip(DateTimeOffset At, DateTimeOffset Until, int? StatusCode, string? ErrorReason, bool RetryAfterHonoured, string? Rule);
