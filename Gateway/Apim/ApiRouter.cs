namespace Gateway.Apim;

/// <summary>Matches a request to an API by its path (longest first) and then to one of the API's operations.</summary>
internal sealed class ApiRouter(IReadOnlyList<ApiRoute> routes) : IDisposable
{
    private readonly IReadOnlyList<ApiRoute> _routes = [.. routes.OrderByDescending(r => r.Entity.Path.Length)];

    public IReadOnlyList<ApiRoute> Routes => _routes;

    public ApiMatch? Match(string method, PathString path)
    {
        foreach (var route in _routes)
        {
            var prefix = route.Entity.Path.Length == 0 ? PathString.Empty : new PathString("/" + route.Entity.Path);
            if (!path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase, out var remainder))
            {
                continue;
            }

            var segments = (remainder.Value ?? string.Empty).Trim('/').Split('/');
            foreach (var operation in route.Definition.Operations)
            {
                var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                if (operation.TryMatch(method, segments, parameters))
                {
                    return new ApiMatch(route, operation, parameters, remainder.ToUriComponent());
                }
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
