using System.Globalization;
using Gateway.Expressions;
using Gateway.Pipeline;
using Gateway.RateLimiting;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>rate-limit-by-key</c> and <c>rate-limit</c> (whose key is the subscription): at most <c>calls</c> per
/// <c>renewal-period</c> seconds. Over the limit the request goes to on-error (reason RateLimitExceeded) and, unless
/// on-error answers, the caller gets API Management's 429 with <c>Retry-After</c>. With <c>increment-condition</c> a
/// call counts only if the condition holds once the response is known (it may read <c>context.Response</c>).
/// </summary>
internal sealed class RateLimitPolicy(
    ElementInfo info,
    PolicyValue? counterKey,
    PolicyValue calls,
    PolicyValue period,
    PolicyValue? incrementCondition,
    PolicyValue? incrementCount,
    RateLimitHeaders names) : PolicyElement(info)
{
    public static PolicyElement? ParseByKey(ElementReader reader) => Parse(reader, byKey: true);

    public static PolicyElement? ParseBySubscription(ElementReader reader) => Parse(reader, byKey: false);

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var key = CounterKeys.Of(counterKey, context, Name);
        var limit = Number(calls, context, "calls");
        var renewal = TimeSpan.FromSeconds(Number(period, context, "renewal-period"));
        var count = incrementCount is null ? 1 : Number(incrementCount, context, "increment-count");

        // Checked and counted in one step; under an increment condition the call is counted once the response is known.
        var lease = context.Services.RateLimits.Acquire(key, limit, renewal, charge: incrementCondition is null ? count : 0);
        var remaining = (int)lease.Remaining;
        if (names.RemainingCallsVariable is { } remainingVariable)
        {
            context.VariableStore[remainingVariable] = remaining;
        }

        if (!lease.IsAcquired)
        {
            var seconds = (int)Math.Ceiling(lease.RetryAfter.TotalSeconds);
            if (names.RetryAfterVariable is { } retryVariable)
            {
                context.VariableStore[retryVariable] = seconds;
            }

            var response = ResponseState.Json(StatusCodes.Status429TooManyRequests, "Too Many Requests", $$"""{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in {{seconds}} seconds." }""");
            response.Headers[names.RetryAfterHeader ?? "Retry-After"] = [seconds.ToString(CultureInfo.InvariantCulture)];
            throw new PolicyExecutionException(Name, ErrorReasons.RateLimitExceeded, $"Rate limit is exceeded. Try again in {seconds} seconds.") { Response = response };
        }

        if (incrementCondition is not null)
        {
            context.OnCompleted(() =>
            {
                if (incrementCondition.IsTrue(context, Name))
                {
                    lease.Settle(count);
                }
            });
        }

        if (names.RemainingCallsHeader is { } remainingHeader)
        {
            context.SetPendingResponseHeader(remainingHeader, remaining.ToString(CultureInfo.InvariantCulture));
        }

        if (names.TotalCallsHeader is { } totalHeader)
        {
            context.SetPendingResponseHeader(totalHeader, limit.ToString(CultureInfo.InvariantCulture));
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    private static RateLimitPolicy? Parse(ElementReader reader, bool byKey)
    {
        // rate-limit takes literal calls and renewal-period and no increment-count; rate-limit-by-key takes expressions.
        var calls = byKey ? reader.Value("calls", required: true) : LiteralValue(reader, "calls");
        var period = byKey ? reader.Value("renewal-period", required: true) : LiteralValue(reader, "renewal-period");
        var key = byKey ? reader.Value("counter-key", required: true) : null;
        var condition = byKey ? reader.Value("increment-condition", kind: ExpressionKind.Condition) : null;
        var count = byKey ? reader.Value("increment-count") : null;
        var names = new RateLimitHeaders(
            reader.Literal("retry-after-header-name"),
            reader.Literal("retry-after-variable-name"),
            reader.Literal("remaining-calls-header-name"),
            reader.Literal("remaining-calls-variable-name"),
            reader.Literal("total-calls-header-name"));
        foreach (var child in reader.Element.Elements())
        {
            reader.Error($"<{child.Name.LocalName}> inside <{reader.Info.Name}> (per-API and per-operation limits) is not supported by this gateway yet");
        }

        return calls is null || period is null || (byKey && key is null) ? null : new RateLimitPolicy(reader.Info, key, calls, period, condition, count, names);
    }

    private static PolicyValue? LiteralValue(ElementReader reader, string name) =>
        reader.Literal(name, required: true) is { } text ? PolicyValue.Literal(text) : null;

    private int Number(PolicyValue value, RequestContext context, string attribute) =>
        int.TryParse(value.EvaluateString(context, Name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new PolicyExecutionException(Name, ErrorReasons.InvalidRateLimit, $"{attribute} must be a positive whole number.");
}

/// <summary>The optional header and variable names of the rate-limit elements.</summary>
internal sealed record RateLimitHeaders(string? RetryAfterHeader, string? RetryAfterVariable, string? RemainingCallsHeader, string? RemainingCallsVariable, string? TotalCallsHeader);
