namespace Gateway.Backends;

/// <summary>Where a request goes: a backend entity's URL (with its id and credentials) or a URL set by <c>base-url</c>.</summary>
internal sealed record BackendTarget(string? BackendId, Uri Url, BackendCredentials? Credentials = null);
