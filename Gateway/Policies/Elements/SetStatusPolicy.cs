using System.Globalization;
using Gateway.Pipeline;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>set-status</c>: sets the status code and reason of the response being built. Without <c>reason</c> (which the
/// reference marks required, and Microsoft's deployed samples omit) the reason is the standard phrase of the code.
/// </summary>
internal sealed class SetStatusPolicy(ElementInfo info, PolicyValue code, PolicyValue? reason) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var code = reader.Value("code", required: true);
        var reason = reader.Value("reason");
        reader.Children();
        if (code is { IsExpression: false } && !IsStatusCode(code.ToString()))
        {
            reader.Error($"code must be an HTTP status code from 100 to 599, not '{code}'");
        }

        return code is null ? null : new SetStatusPolicy(reader.Info, code, reason);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var text = code.EvaluateString(context, Name);
        if (!IsStatusCode(text))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.InvalidStatusCode, $"'{text}' is not an HTTP status code.");
        }

        var status = int.Parse(text!, CultureInfo.InvariantCulture);
        context.Response.StatusCode = status;
        context.Response.StatusReason = reason is null ? ReasonPhrases.GetReasonPhrase(status) : reason.EvaluateString(context, Name) ?? string.Empty;
        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    private static bool IsStatusCode(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 100 and <= 599;
}
