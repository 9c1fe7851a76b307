using Gateway.Pipeline;
using Gateway.Policies;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Apim;

/// <summary>A loaded API: its entity, operations and policies.</summary>
internal sealed class ApiRoute(ApiEntity entity, ApiDefinition definition, ApiPolicies policies) : IDisposable
{
    // The most segments an ASP.NET Core route pattern may have (its parser throws InvalidOperationException beyond).
    private const int RoutePatternMaxSegments = 28;

    public ApiEntity Entity { get; } = entity;

    public ApiInfo Info { get; } = new(entity);

    public ApiDefinition Definition { get; } = definition;

    public ApiPolicies Policies { get; } = policies;

    /// <summary>
    /// One endpoint per operation, named by its route (<c>/openai/deployments/{deployment-id}/chat/completions</c>).
    /// The gateway marks each request with its operation's endpoint, so traces and HTTP metrics are per operation
    /// rather than the gateway's catch-all route (no <c>http.route</c> in the traces of a route no pattern can hold:
    /// TelemetryEndpoint).
    /// </summary>
    public IReadOnlyDictionary<ApiOperation, Endpoint> TelemetryEndpoints { get; } = definition.Operations.ToDictionary(
        operation => operation,
        operation => TelemetryEndpoint(operation.Method, RouteOf(entity, operation)));

    /// <summary>
    /// The endpoint that names an operation in telemetry: a route endpoint, whose pattern OpenTelemetry's ASP.NET Core
    /// instrumentation reads for the span's <c>http.route</c>. A route of more segments than ASP.NET Core's patterns
    /// allow gets a plain endpoint: the operation is served all the same and its HTTP metrics still name the route
    /// (<see cref="OperationRoute"/>), but its spans have no <c>http.route</c>. So does any template the pattern parser
    /// refuses (<c>RoutePatternException</c>), such as a parameter name it reads as its own syntax (<c>{*rest}</c> before
    /// another segment): which templates the gateway serves is the load's check
    /// (<see cref="ApiOperation.TemplateProblem"/>), not ASP.NET Core's parser.
    /// </summary>
    internal static Endpoint TelemetryEndpoint(string method, string route)
    {
        var metadata = new EndpointMetadataCollection(new HttpMethodMetadata([method]), new OperationRoute(route));
        var name = $"{method} {route}";
        try
        {
            return new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(route), order: 0, metadata, name);
        }
        catch (Exception ex) when (ex is RoutePatternException || (ex is InvalidOperationException && route.AsSpan().Count('/') > RoutePatternMaxSegments))
        {
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
