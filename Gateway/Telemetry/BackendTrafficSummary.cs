namespace Gateway.Telemetry;

/// <summary>A backend's answers in the last minute: how many, and how many of each kind (<c>2xx</c>, <c>429</c>, <c>error</c>...).</summary>
internal sealed record BackendTrafficSummary(string BackendId, long Requests, IReadOnlyDictionary<string, long> Statuses)
{
    public static BackendTrafficSummary Empty(string backendId) => new(backendId, 0, new Dictionary<string, long>(StringComparer.Ordinal));
}
