using System.Globalization;
using Gateway.Pipeline;
using Gateway.RateLimiting;
using Gateway.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>azure-openai-token-limit</c> and <c>llm-token-limit</c>: per <c>counter-key</c>, at most <c>tokens-per-minute</c>
/// tokens in any minute and/or <c>token-quota</c> tokens per <c>token-quota-period</c>. A request is admitted while the
/// key's tokens plus its own estimated prompt (with <c>estimate-prompt-tokens</c>, or when it streams) do not pass a
/// limit; it is charged that estimate, then what it consumed once the response is known (the usage the model reports,
/// or for a stream without a usage chunk the prompt estimate plus the streamed text counted). Over the quota: on-error
/// with OpenAITokenQuotaExceeded and API Management's 403; over the rate: OpenAITokenLimitExceeded and its 429; both with
/// <c>Retry-After</c> (or <c>retry-after-header-name</c>).
/// </summary>
internal sealed class TokenLimitPolicy(
    ElementInfo info,
    PolicyValue counterKey,
    long? tokensPerMinute,
    PolicyValue? tokenQuota,
    PolicyValue? tokenQuotaPeriod,
    bool estimatePromptTokens,
    TokenLimitNames names) : PolicyElement(info)
{
    /// <param name="reader">The element.</param>
    /// <param name="quotaExpressions">Whether <c>token-quota</c> and <c>token-quota-period</c> take expressions (<c>llm-token-limit</c>'s do).</param>
    public static TokenLimitPolicy? Parse(ElementReader reader, bool quotaExpressions)
    {
        var name = reader.Info.Name;
        var key = reader.Value("counter-key", required: true);
        int? rate = null;
        if (IsExpression(reader, "tokens-per-minute"))
        {
            // Reports that the attribute takes no expressions (and nothing more).
            reader.Literal("tokens-per-minute");
        }
        else
        {
            rate = reader.Int("tokens-per-minute", 1, int.MaxValue);
        }

        var quota = quotaExpressions ? reader.Value("token-quota") : Literal(reader, "token-quota");
        var period = quotaExpressions ? reader.Value("token-quota-period") : Literal(reader, "token-quota-period");
        var estimate = reader.Element.Attribute("estimate-prompt-tokens") is null ? (bool?)null : reader.Bool("estimate-prompt-tokens", false);
        var names = new TokenLimitNames(
            reader.Literal("retry-after-header-name") ?? "Retry-After",
            reader.Literal("retry-after-variable-name"),
            reader.Literal("remaining-tokens-header-name"),
            reader.Literal("remaining-tokens-variable-name"),
            reader.Literal("remaining-quota-tokens-header-name"),
            reader.Literal("remaining-quota-tokens-variable-name"),
            reader.Literal("tokens-consumed-header-name"),
            reader.Literal("tokens-consumed-variable-name"));

        if (estimate is null)
        {
            reader.Error($"<{name}> requires attribute 'estimate-prompt-tokens'");
        }

        if (reader.Element.Attribute("tokens-per-minute") is null && quota is null)
        {
            reader.Error($"<{name}> needs tokens-per-minute, token-quota with token-quota-period, or both");
        }

        if ((quota is null) != (period is null))
        {
            reader.Error($"<{name}> needs token-quota and token-quota-period together");
        }

        if (quota is { IsExpression: false } && !IsExpression(reader, "token-quota") && (!long.TryParse(quota.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var tokens) || tokens < 1))
        {
            reader.Error($"attribute 'token-quota' of <{name}> must be a whole number of 1 or more, not '{quota}'");
        }

        if (period is { IsExpression: false } && !IsExpression(reader, "token-quota-period") && !TokenQuotaPeriods.TryParse(period.ToString(), out _))
        {
            reader.Error($"attribute 'token-quota-period' of <{name}> must be Hourly, Daily, Weekly, Monthly or Yearly, not '{period}'");
        }

        foreach (var child in reader.Element.Elements())
        {
            reader.Error($"<{child.Name.LocalName}> is not allowed inside <{name}>");
        }

        return key is null || estimate is null || (rate is null && quota is null)
            ? null
            : new TokenLimitPolicy(reader.Info, key, rate, quota, period, estimate.Value, names);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var key = counterKey.EvaluateString(context, Name) ?? string.Empty;
        var quota = tokenQuota is null ? (long?)null : Quota(context);
        var period = tokenQuotaPeriod is null ? TokenQuotaPeriod.Monthly : Period(context);
        var tracker = await TokenUsageTracker.OfAsync(context);
        var limits = context.Services.TokenLimits;

        // A stream's prompt is always estimated, whatever estimate-prompt-tokens says.
        var estimated = estimatePromptTokens || tracker.Request.Stream;
        long needed = estimated ? tracker.Request.PromptTokens : 0;
        var rateCounter = "token-rate\n" + key;

        // Each check charges in the same step, so concurrent requests cannot all pass before any is charged; the quota is
        // checked first, and its charge given back when the rate then refuses the request.
        Lease? quotaLease = null;
        string? quotaCounter = null;
        if (quota is { } maxTokens)
        {
            quotaCounter = $"token-quota\n{period}\n{key}";
            var held = context.HeldLease(quotaCounter);
            var lease = limits.AcquireQuota(key, period, maxTokens, needed, held);
            if (!lease.IsAcquired)
            {
                throw Refused(context, 403, "Forbidden", ErrorReasons.OpenAITokenQuotaExceeded, "Token quota is exceeded. Try again in {0}.", lease.RetryAfter, Wait);
            }

            quotaLease = held is null ? lease : null;
        }

        if (tokensPerMinute is { } perMinute)
        {
            var held = context.HeldLease(rateCounter);
            var lease = limits.AcquireRate(key, perMinute, needed, held);
            if (!lease.IsAcquired)
            {
                quotaLease?.Release();
                throw Refused(context, 429, "Too Many Requests", ErrorReasons.OpenAITokenLimitExceeded, "Token limit is exceeded. Try again in {0} seconds.", lease.RetryAfter, seconds => seconds.ToString(CultureInfo.InvariantCulture));
            }

            if (held is null)
            {
                Hold(context, tracker, rateCounter, lease);
            }
        }

        if (quotaLease is not null)
        {
            Hold(context, tracker, quotaCounter!, quotaLease);
        }

        SetVariables(context, key, quota, period, tokensPerMinute, needed);
        if (names.TokensConsumedVariable is { } consumedVariable)
        {
            // Updated with the reported count when a buffered response arrives, so outbound sees it.
            context.OnBackendResponse(_ =>
            {
                if (tracker.BackendUsage is { } usage)
                {
                    context.VariableStore[consumedVariable] = (int)usage.TotalTokens;
                }
            });
        }

        context.OnCompleted(() => SetHeaders(context, tracker, key, quota, period, needed));
        return PolicyFlow.Continue;
    }

    /// <summary>
    /// The wait of a quota message as API Management words it: the days, hours, minutes and seconds that are not zero,
    /// as in "41 minutes and 54 seconds" or "24 days, 14 hours, 3 minutes and 2 seconds".
    /// </summary>
    public static string Wait(long seconds)
    {
        var wait = TimeSpan.FromSeconds(seconds);
        var parts = new List<string>();
        Add(parts, wait.Days, "day");
        Add(parts, wait.Hours, "hour");
        Add(parts, wait.Minutes, "minute");
        Add(parts, wait.Seconds, "second");
        return parts.Count switch
        {
            0 => "0 seconds",
            1 => parts[0],
            _ => string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1],
        };

        static void Add(List<string> parts, int count, string unit)
        {
            if (count > 0)
            {
                parts.Add(count.ToString(CultureInfo.InvariantCulture) + " " + unit + (count == 1 ? string.Empty : "s"));
            }
        }
    }

    /// <summary>Holds the lease that counts the request on a counter, to be settled with the tokens it consumed (none without usage).</summary>
    private static void Hold(RequestContext context, TokenUsageTracker tracker, string counter, Lease lease)
    {
        context.HoldLease(counter, lease);
        tracker.OnUsage(usage => lease.Settle(usage?.TotalTokens ?? 0));
    }

    private static bool IsExpression(ElementReader reader, string name) =>
        reader.Element.Attribute(name)?.Value is { } text && PolicyParser.IsExpression(text);

    private static PolicyValue? Literal(ElementReader reader, string name) =>
        reader.Literal(name) is { } text ? PolicyValue.Literal(text) : null;

    private PolicyExecutionException Refused(RequestContext context, int status, string reasonPhrase, string reason, string format, TimeSpan wait, Func<long, string> words)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        if (names.RetryAfterVariable is { } variable)
        {
            context.VariableStore[variable] = (int)Math.Min(seconds, int.MaxValue);
        }

        var message = string.Format(CultureInfo.InvariantCulture, format, words(seconds));
        var response = ResponseState.Json(status, reasonPhrase, $$"""{ "statusCode": {{status}}, "message": "{{message}}" }""");
        response.Headers[names.RetryAfterHeader] = [seconds.ToString(CultureInfo.InvariantCulture)];
        return new PolicyExecutionException(Name, reason, message) { Response = response };
    }

    private void SetVariables(RequestContext context, string key, long? quota, TokenQuotaPeriod period, long? perMinute, long needed)
    {
        var limits = context.Services.TokenLimits;
        if (names.RemainingTokensVariable is { } remaining && perMinute is { } rate)
        {
            context.VariableStore[remaining] = Remaining(rate, limits.RateUsed(key));
        }

        if (names.RemainingQuotaTokensVariable is { } remainingQuota && quota is { } max)
        {
            context.VariableStore[remainingQuota] = Remaining(max, limits.QuotaUsed(key, period));
        }

        if (names.TokensConsumedVariable is { } consumed)
        {
            context.VariableStore[consumed] = (int)needed;
        }
    }

    private void SetHeaders(RequestContext context, TokenUsageTracker tracker, string key, long? quota, TokenQuotaPeriod period, long needed)
    {
        var limits = context.Services.TokenLimits;
        var headers = context.Response.Headers;
        if (names.RemainingTokensHeader is { } remaining && tokensPerMinute is { } rate)
        {
            headers[remaining] = [Remaining(rate, limits.RateUsed(key)).ToString(CultureInfo.InvariantCulture)];
        }

        if (names.RemainingQuotaTokensHeader is { } remainingQuota && quota is { } max)
        {
            headers[remainingQuota] = [Remaining(max, limits.QuotaUsed(key, period)).ToString(CultureInfo.InvariantCulture)];
        }

        if (names.TokensConsumedHeader is { } consumed && tracker.BackendResponded)
        {
            // A stream's headers leave before its usage is known: they carry the prompt estimate.
            var tokens = tracker.Finished ? tracker.Usage?.TotalTokens ?? 0 : needed;
            headers[consumed] = [tokens.ToString(CultureInfo.InvariantCulture)];
        }
    }

    private static int Remaining(long limit, long consumed) => (int)Math.Clamp(limit - consumed, 0, int.MaxValue);

    private long Quota(RequestContext context)
    {
        var text = tokenQuota!.EvaluateString(context, Name);
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var tokens) && tokens > 0
            ? tokens
            : throw new PolicyExecutionException(Name, ErrorReasons.InvalidTokenQuota, $"token-quota must be a whole number of 1 or more, not '{text}'.");
    }

    private TokenQuotaPeriod Period(RequestContext context)
    {
        var text = tokenQuotaPeriod!.EvaluateString(context, Name);
        return TokenQuotaPeriods.TryParse(text, out var period)
            ? period
            : throw new PolicyExecutionException(Name, ErrorReasons.InvalidTokenQuotaPeriod, $"token-quota-period must be Hourly, Daily, Weekly, Monthly or Yearly, not '{text}'.");
    }
}

/// <summary>The optional header and variable names of the token-limit elements.</summary>
internal sealed record TokenLimitNames(
    string RetryAfterHeader,
    string? RetryAfterVariable,
    string? RemainingTokensHeader,
    string? RemainingTokensVariable,
    string? RemainingQuotaTokensHeader,
    string? RemainingQuotaTokensVariable,
    string? TokensConsumedHeader,
    string? TokensConsumedVariable);
