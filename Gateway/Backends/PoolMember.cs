namespace Gateway.Backends;

/// <summary>A single backend in a pool, with its priority (lower is tried first) and its weight within that priority.</summary>
internal sealed record PoolMember(Backend Backend, int Priority, int Weight);
