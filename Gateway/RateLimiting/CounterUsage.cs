namespace Gateway.RateLimiting;

/// <summary>One counter key as it stands now: what it used, and the limit of the last request admitted on it.</summary>
internal sealed record CounterUsage(string Key, long Used, long Limit);
