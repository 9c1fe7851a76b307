namespace Gateway.Caching;

/// <summary>
/// What a request's semantic cache lookup found, kept on the request for the store in outbound: the partition and the
/// prompt's vector (null when the embeddings call failed, so there is nothing to store), and whether it was answered
/// from the cache.
/// </summary>
internal sealed record SemanticCacheLookup(string Partition, float[]? Vector, bool Hit);
