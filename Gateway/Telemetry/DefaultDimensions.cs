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
    public static string? ValueOf(RequestContext context, string name) => name.ToUpperInvariant() switch
    {
        "API ID" => context.Api.Id,
        "OPERATION ID" => context.Operation.Id,
        "PRODUCT ID" => context.Product?.Id,
        "USER ID" => context.User?.Id,
        "SUBSCRIPTION ID" => context.Subscription?.Id,
        "LOCATION" => context.Deployment.Region,
        "GATEWAY ID" => context.Deployment.GatewayId,
        _ => null,
    };
}
