namespace Gateway.Backends;

/// <summary>Where a request goes: a backend entity's URL (with its id) or a URL set by <c>base-url</c>.</summary>
internal sealed record BackendTarget(string? BackendId, Uri Url);
