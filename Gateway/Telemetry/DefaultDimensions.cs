using Gateway.Pipeline;

namespace Gateway.Telemetry;

/// <summary>
/// The dimensions a metric policy may name without a value (<c>emit-metric</c>, the token metric policies): API
/// Management fills them in from the request's context.
/// </summary>
internal static class DefaultDimensions
{
    // Each default dimension once: its name, in API Management's order, and where its value comes from.
    private static readonly (string Name, Func<RequestContext, string?> Value)[] Defaults =
    [
        ("API ID", context => context.Api.Id),
        ("Operation ID", context => context.Operation.Id),
        ("Product ID", context => context.Product?.Id),
        ("User ID", context => context.User?.Id),
        ("Subscription ID", context => context.Subscription?.Id),
        ("Location", context => context.Deployment.Region),
        ("Gateway ID", context => context.Deployment.GatewayId),
    ];

    private static readonly Dictionary<string, Func<RequestContext, string?>> ByName =
        Defaults.ToDictionary(d => d.Name, d => d.Value, StringComparer.OrdinalIgnoreCase);

    public static readonly string[] Names = [.. Defaults.Select(d => d.Name)];

    public static bool Contains(string name) => ByName.ContainsKey(name);

    /// <summary>The value of a default dimension for this request; null when the request has none (no product, say).</summary>
    public static string? ValueOf(RequestContext context, string name) => ByName.TryGetValue(name, out var value) ? value(context) : null;
}
