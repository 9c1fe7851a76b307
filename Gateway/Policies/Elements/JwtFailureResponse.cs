using System.Globalization;
using System.Text.Json;
using Gateway.Pipeline;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Policies.Elements;

/// <summary>
/// The status and message a token validation answers with (<c>failed-validation-httpcode</c>,
/// <c>failed-validation-error-message</c>); null means API Management's default: 401 and the element's own message.
/// </summary>
internal sealed record JwtFailureResponse(PolicyValue? Code, PolicyValue? Message)
{
    /// <summary>
    /// The failure for on-error (<paramref name="reason"/> and <paramref name="detail"/> in <c>context.LastError</c>) with
    /// the response the caller gets unless on-error answers: <c>{"statusCode": code, "message": "..."}</c>.
    /// </summary>
    public PolicyExecutionException Failure(RequestContext context, string element, string reason, string detail, string defaultMessage)
    {
        var status = int.TryParse(Code?.EvaluateString(context, element), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 100 and <= 599
            ? parsed
            : StatusCodes.Status401Unauthorized;
        var text = Message?.EvaluateString(context, element) ?? defaultMessage;
        return new PolicyExecutionException(element, reason, detail)
        {
            Response = ResponseState.Json(status, ReasonPhrases.GetReasonPhrase(status), $$"""{"statusCode": {{status}}, "message": {{JsonSerializer.Serialize(text)}}}"""),
        };
    }

    /// <summary>
    /// <c>failed-validation-httpcode</c>, which may be an expression; a literal is checked when the policy loads.
    /// </summary>
    public static PolicyValue? ReadCode(ElementReader reader)
    {
        var value = reader.Value("failed-validation-httpcode");
        if (value is { IsExpression: false } && !(int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 100 and <= 599))
        {
            reader.Error($"attribute 'failed-validation-httpcode' of <{reader.Info.Name}> must be an HTTP status code, not '{value}'");
        }

        return value;
    }
}
