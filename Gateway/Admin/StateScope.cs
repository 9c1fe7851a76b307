namespace Gateway.Admin;

/// <summary>The kinds of state the admin endpoint resets one at a time (<c>?scope=</c>; <c>all</c> is every kind).</summary>
internal enum StateScope
{
    /// <summary>The internal cache of <c>cache-store-value</c> and friends.</summary>
    Caches,

    /// <summary>Rate-limit, quota and token counters.</summary>
    Counters,

    /// <summary>Circuit breakers of backends.</summary>
    Breakers,
}
