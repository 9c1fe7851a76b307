namespace Gateway.Apim;

/// <summary>Matches a request to an API by its path (longest first) and then to one of the API's operations.</summary>
internal sealed class ApiRouter(IReadOnlyList<ApiRoute> routes) : IDisposable
{
    private readonly IReadOnlyList<ApiRoute> _routes = [.. routes.OrderByDescending(r => r.Entity.Path.Length)];

    // Each route's path as a PathString, made once rather than per request.
    private readonly PathString[] _prefixes = [.. routes.OrderByDescending(r => r.Entity.Path.Length)
        .Select(r => r.Entity.Path.Length == 0 ? PathString.Empty : new PathString("/" + r.Entity.Path))];

    public IReadOnlyList<ApiRoute> Routes => _routes;

    public ApiMatch? Match(string method, PathString path)
    {
        for (var r = 0; r < _routes.Count; r++)
        {
            var route = _routes[r];
            if (!path.StartsWithSegments(_prefixes[r], StringComparison.OrdinalIgnoreCase, out var remainder))
            {
                continue;
            }

            var segments = (remainder.Value ?? string.Empty).Trim('/').Split('/');
            // One dictionary for all the operations tried: an operation that fails to match may have written some
            // parameters, so it is cleared before the next.
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var operation in route.Definition.Operations)
            {
                if (operation.TryMatch(method, segments, parameters))
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
        foreach (var route in _routes)
        {
            route.Dispose();
        }
    }
}
