namespace Gateway.Backends;

/// <summary>
/// Where a request goes: a backend entity's URL (with its id and credentials) or a URL set by <c>base-url</c>. The one
/// place a backend URL is joined with the operation's path, for <c>forward-request</c> and for <c>context.Request.Url</c>.
/// </summary>
internal sealed record BackendTarget(string? BackendId, Uri Url, BackendCredentials? Credentials = null)
{
    private readonly string _base = Url.ToString().TrimEnd('/');

    /// <summary>Scheme, host and port: where the forwarder connects.</summary>
    public string Authority { get; } = Url.GetLeftPart(UriPartial.Authority);

    /// <summary>The path the request takes at this backend: the URL's own path, then the operation's.</summary>
    public string PathFor(string operationPath) => Url.AbsolutePath.TrimEnd('/') + operationPath;

    /// <summary>The URL the request is sent to: the backend's, the operation's path, then <paramref name="query"/>.</summary>
    public Uri DestinationFor(string operationPath, QueryString query) => new(_base + operationPath + query.ToUriComponent());
}
