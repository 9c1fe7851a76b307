namespace Gateway.Apim;

/// <summary>Matches a request to an API by its path (longest first) and then to one of the API's operations.</summary>
internal sealed class ApiRouter : IDisposable
{
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

            var segments = (remainder.Value ?? string.Empty).Trim('/').Split('/');
            // One dictionary for all the operations tried: an operation that fails to match may have written some
            // parameters, so it is cleared before the next.
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var operation in route.Definition.Operations)
            {
                if (operation.TryMatch(method ?? operation.Method, segments, parameters))
                {
                    return new ApiMatch(route, operation, parameters, remainder.ToUriComponent());
                }

                parameters.Clear();
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
