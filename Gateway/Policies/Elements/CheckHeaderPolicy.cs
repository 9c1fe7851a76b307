using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>check-header</c>: the request must carry the header, and (when <c>value</c>s are listed) one of the values.
/// Otherwise the request goes to on-error (reason HeaderNotFound or HeaderValueNotAllowed) and, unless on-error
/// answers, the caller gets <c>failed-check-httpcode</c> with <c>{"statusCode": code, "message": "..."}</c>.
/// </summary>
internal sealed class CheckHeaderPolicy(ElementInfo info, PolicyValue name, PolicyValue code, PolicyValue message, bool ignoreCase, IReadOnlyList<PolicyValue> values)
    : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Value("name", required: true);
        var code = reader.Value("failed-check-httpcode", required: true);
        var message = reader.Value("failed-check-error-message", required: true);
        var ignoreCase = reader.Bool("ignore-case", false);
        var values = reader.Children("value").Select(v => reader.TextValue(v)).ToList();
        return name is null || code is null || message is null ? null : new CheckHeaderPolicy(reader.Info, name, code, message, ignoreCase, values);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var headerName = name.EvaluateString(context, Name) ?? string.Empty;
        var allowed = values.Select(v => v.EvaluateString(context, Name) ?? string.Empty).ToList();
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!context.RequestHeaders.TryGetValue(headerName, out var present) || present.Length == 0)
        {
            throw Failure(context, ErrorReasons.HeaderNotFound, $"Header {headerName} was not found in the request. Access denied.");
        }

        if (allowed.Count > 0 && !present.SelectMany(v => v.Split(',')).Any(v => allowed.Any(a => string.Equals(a, v.Trim(), comparison))))
        {
            throw Failure(context, ErrorReasons.HeaderValueNotAllowed, $"Header {headerName} value is not allowed. Access denied.");
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    private PolicyExecutionException Failure(RequestContext context, string reason, string detail)
    {
        var status = int.TryParse(code.EvaluateString(context, Name), out var parsed) && parsed is >= 100 and <= 599 ? parsed : StatusCodes.Status401Unauthorized;
        var text = message.EvaluateString(context, Name) ?? string.Empty;
        return new PolicyExecutionException(Name, reason, detail)
        {
            Response = ResponseState.Json(status, ReasonPhrases.GetReasonPhrase(status), $$"""{"statusCode": {{status}}, "message": {{JsonSerializer.Serialize(text)}}}"""),
        };
    }
}
