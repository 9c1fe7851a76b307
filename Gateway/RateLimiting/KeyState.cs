namespace Gateway.RateLimiting;

/// <summary>What a limiter keeps for one key. It is read and changed only under <see cref="Gate"/>, the key's own lock.</summary>
internal abstract class KeyState
{
    public Lock Gate { get; } = new();

    /// <summary>Set under the gate when the key is forgotten: a request that still finds this state takes the key's new one.</summary>
    public bool Evicted { get; set; }

    /// <summary>Whether forgetting the key at <paramref name="now"/> would lose nothing (called under the gate).</summary>
    public abstract bool IsIdle(DateTimeOffset now);
}
