using System.ComponentModel.DataAnnotations;

namespace Gateway.Forwarding;

/// <summary>How the gateway holds its connections to backends (<c>Gateway:Forwarding</c>).</summary>
internal sealed class ForwardingOptions
{
    public const string SectionName = "Gateway:Forwarding";

    /// <summary>
    /// How long a backend call may pass without a byte moving in either direction before its connection is dropped.
    /// API Management's <c>forward-request</c> timeout bounds only the wait for the response headers; what ends a stream
    /// that stalls after them is the 4-minute idle timeout of the Azure load balancer in front of API Management
    /// ("Configure API for server-sent events"), which also makes a timeout over 240 seconds unreliable ("Forward
    /// request"). Both come from this one idle timeout here.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00", ErrorMessage = "Gateway:Forwarding:IdleTimeout must be more than zero and at most a day.")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(4);
}
