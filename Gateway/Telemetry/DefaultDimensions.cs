using Gateway.Pipeline;

namespace Gateway.Telemetry;

/// <summary>
/// The dimensions a metric policy may name without a value (<c>emit-metric</c>, the token metric policies): API
/// Management fills them in from the request's context.
/// </summary>
internal static class DefaultDimensions
{
    public static readonly string[] Names = ["API ID", "Operation ID", "Product ID", "User ID", "Subscription ID", "Location", "Gateway ID"];

    public static bool Contains(string name) => Names.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The value of a default dimension for this request; null when the request has none (no product, say).</summary>
    public static string? ValueOf(RequestContext context, string name) => name switch
    {
        _ when Is(name, "API ID") => context.Api.Id,
        _ when Is(name, "Operation ID") => context.Operation.Id,
        _ when Is(name, "Product ID") => context.Product?.Id,
        _ when Is(name, "User ID") => context.User?.Id,
        _ when Is(name, "Subscription ID") => context.Subscription?.Id,
        _ when Is(name, "Location") => context.Deployment.Region,
        _ when Is(name, "Gateway ID") => context.Deployment.GatewayId,
        _ => null,
    };

    // Names compare without case, and without making an upper-case copy on every request.
    private static bool Is(string name, string dimension) => string.Equals(name, dimension, StringComparison.OrdinalIgnoreCase);
}
