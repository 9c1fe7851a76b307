namespace Gateway.Backends;

/// <summary>
/// One request's session with a pool that has session affinity: the member the request's cookie pinned (null when it
/// carried none, or one that names no member of the pool), and the member the session is pinned to now, which a
/// <c>forward-request</c> moves when the pinned member is unavailable.
/// </summary>
internal sealed class PoolSession(BackendPool pool, Backend? requested)
{
    public BackendPool Pool { get; } = pool;

    public Backend? Requested { get; } = requested;

    public Backend? Member { get; set; } = requested;

    /// <summary>Whether the client must be sent a new cookie: the session was pinned to another member than its cookie named.</summary>
    public bool Repinned => Member is not null && !ReferenceEquals(Member, Requested);
}
