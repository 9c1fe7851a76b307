namespace Gateway.Apim;

/// <summary>Matches a request to an API by its path (longest first) and then to one of the API's operations.</summary>
internal sealed class ApiRouter : IDisposable
{
    // Paths with more segments than this (Azure OpenAI's have under ten) split into an array rather than on the stack.
    private const int MaxStackSegments = 32;

    // The routes in Routes' order, each with its path as a PathString, made once rather than per request.
    private readonly (ApiRoute Route, PathString Prefix)[] _routes;

    public ApiRouter(IReadOnlyList<ApiRoute> routes)
    {
        Routes = [.. routes.OrderByDescending(r => r.Entity.Path.Length)];
        _routes = [.. Routes.Select(r => (r, r.Entity.Path.Length == 0 ? PathString.Empty : new PathString("/" + r.Entity.Path)))];
    }

    /// <summary>The APIs, longest path first.</summary>
    public IReadOnlyList<ApiRoute> Routes { get; }

    public ApiMatch? Match(string method, PathString path) => Find(method, path);

    /// <summary>
    /// The operation a CORS preflight stands for: the one its requested method would reach, else the first operation of
    /// the path, so that a method the API lacks is refused by the cors policy rather than by a 404.
    /// </summary>
    public ApiMatch? MatchPreflight(string requestedMethod, PathString path) => Find(requestedMethod, path) ?? Find(null, path);

    /// <param name="method">The method; null matches any.</param>
    /// <param name="path">The request path.</param>
    private ApiMatch? Find(string? method, PathString path)
    {
        foreach (var (route, prefix) in _routes)
        {
            if (!path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase, out var remainder))
            {
                continue;
            }

            if (FindOperation(route, method, remainder) is { } match)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>The first operation of <paramref name="route"/> that <paramref name="remainder"/> (the path after the API's) matches.</summary>
    private static ApiMatch? FindOperation(ApiRoute route, string? method, PathString remainder)
    {
        // The segments as ranges of the path, not strings: only the matched operation's parameters are copied out.
        var path = (remainder.Value ?? string.Empty).AsSpan().Trim('/');
        var count = path.Count('/') + 1;
        var segments = count <= MaxStackSegments ? stackalloc Range[count] : new Range[count];
        var split = path.Split(segments, '/');
        System.Diagnostics.Debug.Assert(split == count, "one range a segment");
        var operations = route.Definition.Operations;
        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i].Matches(method ?? operations[i].Method, path, segments))
            {
                return new ApiMatch(route, operations[i], operations[i].CaptureParameters(path, segments), remainder.ToUriComponent());
            }
        }

        return null;
    }

    public void Dispose()
    {
        foreach (var (route, _) in _routes)
        {
            route.Dispose();
        }
    }
}
