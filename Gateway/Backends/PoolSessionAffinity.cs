namespace Gateway.Backends;

/// <summary>
/// A pool's session affinity, from its <c>sessionAffinity.sessionId</c>: the cookie that pins a client's session to one
/// member (source Cookie is the only one API Management defines).
/// </summary>
internal sealed record PoolSessionAffinity(string CookieName);
