using Gateway.Forwarding;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>forward-request</c>: sends the request to the selected backend through YARP. The response is buffered unless
/// <c>buffer-response="false"</c> (API Management's default is to buffer), so a stream reaches the client as it arrives
/// only when the policy says so.
/// </summary>
internal sealed class ForwardRequestPolicy(ElementInfo info, ForwardOptions options) : PolicyElement(info)
{
    public ForwardOptions Options => options;

    /// <summary>API Management's default timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    public static PolicyElement Parse(ElementReader reader)
    {
        var seconds = reader.Int("timeout", 0, 240 * 1000);
        var milliseconds = reader.Int("timeout-ms", 0, int.MaxValue);
        if (seconds is not null && milliseconds is not null)
        {
            reader.Error("use either timeout or timeout-ms, not both");
        }

        var bufferRequestBody = reader.Bool("buffer-request-body", false);
        var bufferResponse = reader.Bool("buffer-response", true);
        reader.Refuse("fail-on-error-status-code", "false");
        reader.Refuse("follow-redirects", "false");
        reader.Refuse("http-version", "1");
        reader.Refuse("continue-timeout");
        reader.Children();

        var timeout = milliseconds is not null ? TimeSpan.FromMilliseconds(milliseconds.Value)
            : seconds is not null ? TimeSpan.FromSeconds(seconds.Value)
            : DefaultTimeout;
        return new ForwardRequestPolicy(reader.Info, new ForwardOptions(timeout, bufferRequestBody, bufferResponse));
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        await context.Services.Forwarder.ForwardAsync(context, options);
        return PolicyFlow.Continue;
    }
}
