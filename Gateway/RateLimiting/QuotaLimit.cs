namespace Gateway.RateLimiting;

/// <summary>The limit of a quota a key has reached: its calls or its bandwidth.</summary>
internal enum QuotaLimit
{
    Calls,
    Bandwidth,
}
