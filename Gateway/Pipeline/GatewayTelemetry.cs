using System.Diagnostics;

namespace Gateway.Pipeline;

/// <summary>The gateway's own spans: one per policy section, with an event per executed element.</summary>
internal static class GatewayTelemetry
{
    public const string SourceName = "Gateway.Policies";

    public static readonly ActivitySource Source = new(SourceName);
}
