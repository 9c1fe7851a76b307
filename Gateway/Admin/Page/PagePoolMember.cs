namespace Gateway.Admin.Page;

/// <summary>A pool member: priority, weight, whether its breaker lets requests through, and whether the pool picks from it now.</summary>
internal sealed record PagePoolMember(string BackendId, int Priority, int Weight, bool Available, bool Selectable);
