namespace Gateway.Caching;

/// <summary>A cached answer: the prompt's vector, the response (status, content type, body) and when it expires.</summary>
internal sealed record SemanticCacheEntry(float[] Vector, int StatusCode, string StatusReason, string? ContentType, byte[] Body, DateTimeOffset Expires);
