using Gateway.Pipeline;
using Gateway.Policies;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Apim;

/// <summary>A loaded API: its entity, operations and policies.</summary>
internal sealed class ApiRoute(ApiEntity entity, ApiDefinition definition, ApiPolicies policies) : IDisposable
{
    public ApiEntity Entity { get; } = entity;

    public ApiInfo Info { get; } = new(entity);

    public ApiDefinition Definition { get; } = definition;

    public ApiPolicies Policies { get; } = policies;

    /// <summary>
    /// One endpoint per operation, named by its route (<c>/openai/deployments/{deployment-id}/chat/completions</c>).
    /// The gateway marks each request with its operation's endpoint, so traces and HTTP metrics are per operation
    /// rather than the gateway's catch-all route.
    /// </summary>
    public IReadOnlyDictionary<ApiOperation, Endpoint> TelemetryEndpoints { get; } = definition.Operations.ToDictionary(
        operation => operation,
        operation => EndpointOf(entity, operation));

    private static Endpoint EndpointOf(ApiEntity entity, ApiOperation operation)
    {
        var route = RouteOf(entity, operation);
        var metadata = new EndpointMetadataCollection(new HttpMethodMetadata([operation.Method]), new OperationRoute(route));
        var name = $"{operation.Method} {route}";
        try
        {
            return new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(route), order: 0, metadata, name);
        }
        catch (InvalidOperationException)
        {
            // ASP.NET Core's route patterns allow 28 segments. A longer operation is served all the same: its HTTP metrics
            // still name its route (OperationRoute); only a tracer that reads the route pattern finds none.
            return new Endpoint(_ => Task.CompletedTask, metadata, name);
        }
    }

    /// <summary>The operation's route under the API's path; an API with an empty path is served at the root.</summary>
    private static string RouteOf(ApiEntity entity, ApiOperation operation) =>
        (entity.Path.Length == 0 ? string.Empty : "/" + entity.Path) + "/" + operation.UrlTemplate.TrimStart('/');

    public void Dispose() => Policies.Dispose();
}

/// <summary>The route ASP.NET Core reports in its spans and metrics (<c>http.route</c>).</summary>
internal sealed record OperationRoute(string Route) : Microsoft.AspNetCore.Http.Metadata.IRouteDiagnosticsMetadata;

/// <summary>A request matched to an API operation.</summary>
internal sealed record ApiMatch(ApiRoute Route, ApiOperation Operation, IReadOnlyDictionary<string, string> Parameters, string OperationPath);
