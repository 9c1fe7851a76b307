using System.Globalization;
using Gateway.Expressions;
using Gateway.Pipeline;
using Gateway.RateLimiting;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>quota-by-key</c> and <c>quota</c> (whose key is the subscription): at most <c>calls</c> calls and/or
/// <c>bandwidth</c> kilobytes per period of <c>renewal-period</c> seconds (0: one period that never ends). Periods are laid
/// end to end from <c>first-period-start</c> (default 0001-01-01T00:00:00Z), or for <c>quota</c> from the
/// subscription's start. A request is refused once a limit has been reached: it goes to on-error (reason QuotaExceeded)
/// and, unless on-error answers, the caller gets API Management's 403 with <c>Retry-After</c>. Calls are counted when the
/// request is admitted, bytes once the response is sent; with <c>increment-condition</c> both only if the condition holds
/// once the response is known. Several quotas on one key count a request once.
/// </summary>
internal sealed class QuotaPolicy(
    ElementInfo info,
    PolicyValue? counterKey,
    long? calls,
    long? bandwidthBytes,
    TimeSpan renewal,
    DateTimeOffset? firstPeriodStart,
    PolicyValue? incrementCondition,
    PolicyValue? incrementCount) : PolicyElement(info)
{
    /// <summary>The shortest renewal period <c>quota-by-key</c> accepts, besides 0.</summary>
    public const int MinimumRenewalSeconds = 300;

    /// <summary>The format API Management documents for <c>first-period-start</c>, and the same with fractions or an offset.</summary>
    private static readonly string[] DateTimeFormats = ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    private static readonly object CountedItemKey = new();

    public static PolicyElement? ParseByKey(ElementReader reader) => Parse(reader, byKey: true);

    public static PolicyElement? ParseBySubscription(ElementReader reader) => Parse(reader, byKey: false);

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var key = CounterKeys.Of(counterKey, context, Name);

        // quota's periods start with the subscription (whose creation date is the Unix epoch until subscriptions have dates).
        var anchor = firstPeriodStart ?? new DateTimeOffset(DateTime.SpecifyKind(context.Subscription?.CreatedDate ?? DateTime.UnixEpoch, DateTimeKind.Utc));
        var counter = QuotaCounters.CounterOf(key, anchor, renewal);
        var counters = context.Services.Quotas;

        // Another quota on this counter may have counted this request already: it is checked as it stood before. Without
        // an increment condition the call is counted in the same step as the check, so concurrent requests cannot overshoot.
        var counted = Counted(context);
        var countNow = incrementCondition is null && calls is not null && !counted.ContainsKey("calls\n" + counter);
        var admit = countNow ? IncrementCount(context) : 0;
        var (exceeded, renewsIn) = counters.TryAdmit(counter, anchor, renewal, calls, bandwidthBytes, counted.GetValueOrDefault("calls\n" + counter), admit);
        if (exceeded is { } limit)
        {
            throw Exceeded(limit, renewsIn);
        }

        if (countNow)
        {
            counted["calls\n" + counter] = admit;
        }

        // The meter must wrap the bodies before anything is forwarded or written.
        var meter = bandwidthBytes is null ? null : TransferMeter.Of(context);
        if (incrementCondition is null)
        {
            CountBytes(context, counter, anchor, meter);
        }
        else
        {
            context.OnCompleted(() =>
            {
                if (incrementCondition.Evaluate(context, Name) is true)
                {
                    Count(context, counter, anchor, meter);
                }
            });
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>
    /// API Management's message: the time to wait as a TimeSpan (<c>[d.]hh:mm:ss</c>), rounded up to a whole second, as
    /// in "Out of call volume quota. Quota will be replenished in 5.03:23:11."
    /// </summary>
    public static string Message(QuotaLimit limit, long seconds) =>
        $"Out of {(limit == QuotaLimit.Calls ? "call volume" : "bandwidth")} quota. Quota will be replenished in {TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture)}.";

    private static QuotaPolicy? Parse(ElementReader reader, bool byKey)
    {
        var name = reader.Info.Name;
        var calls = reader.Int("calls", 1, int.MaxValue);
        var bandwidth = reader.Int("bandwidth", 1, int.MaxValue);
        var renewal = reader.Int("renewal-period", 0, int.MaxValue);
        PolicyValue? key = null;
        PolicyValue? condition = null;
        PolicyValue? count = null;
        DateTimeOffset? start = null;
        if (byKey)
        {
            key = reader.Value("counter-key", required: true);
            condition = reader.Value("increment-condition", kind: ExpressionKind.Condition);
            count = reader.Value("increment-count");
            start = FirstPeriodStart(reader) ?? DateTimeOffset.MinValue;
            if (count is { IsExpression: false } && !long.TryParse(count.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                reader.Error($"attribute 'increment-count' of <{name}> must be a whole number of 0 or more, not '{count}'");
            }

            if (renewal is > 0 and < MinimumRenewalSeconds)
            {
                reader.Error($"renewal-period of <{name}> must be 0 (never renews) or at least {MinimumRenewalSeconds} seconds, not {renewal}");
            }
        }

        if (reader.Element.Attribute("calls") is null && reader.Element.Attribute("bandwidth") is null)
        {
            reader.Error($"<{name}> needs calls, bandwidth or both");
        }

        if (reader.Element.Attribute("renewal-period") is null)
        {
            reader.Error($"<{name}> requires attribute 'renewal-period'");
        }

        foreach (var child in reader.Element.Elements())
        {
            reader.Error($"<{child.Name.LocalName}> inside <{name}> (per-API and per-operation quotas) is not supported by this gateway yet");
        }

        return (calls is null && bandwidth is null) || renewal is null || (byKey && key is null)
            ? null
            : new QuotaPolicy(reader.Info, key, calls, bandwidth * 1024L, TimeSpan.FromSeconds(renewal.Value), start, condition, count);
    }

    private static DateTimeOffset? FirstPeriodStart(ElementReader reader)
    {
        var text = reader.Literal("first-period-start");
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParseExact(text, DateTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start))
        {
            return start;
        }

        reader.Error($"attribute 'first-period-start' of <{reader.Info.Name}> must be an ISO 8601 date and time such as 2024-01-01T00:00:00Z, not '{text}'");
        return null;
    }

    /// <summary>What this request has counted so far, per dimension and key (a request counts once toward each).</summary>
    private static Dictionary<string, long> Counted(RequestContext context)
    {
        var items = context.HttpContext.Items;
        if (!items.TryGetValue(CountedItemKey, out var value) || value is not Dictionary<string, long> counted)
        {
            counted = new Dictionary<string, long>(StringComparer.Ordinal);
            items[CountedItemKey] = counted;
        }

        return counted;
    }

    /// <summary>Counts a call (after the response, under an increment condition) and the bytes, once per counter.</summary>
    private void Count(RequestContext context, string counter, DateTimeOffset anchor, TransferMeter? meter)
    {
        var counted = Counted(context);
        if (calls is not null && !counted.ContainsKey("calls\n" + counter))
        {
            var count = IncrementCount(context);
            counted["calls\n" + counter] = count;
            context.Services.Quotas.Add(counter, anchor, renewal, count, 0);
        }

        CountBytes(context, counter, anchor, meter);
    }

    private void CountBytes(RequestContext context, string counter, DateTimeOffset anchor, TransferMeter? meter)
    {
        if (meter is not null && Counted(context).TryAdd("bytes\n" + counter, 0))
        {
            var counters = context.Services.Quotas;
            context.OnResponseSent(() => counters.Add(counter, anchor, renewal, 0, meter.Bytes));
        }
    }

    private long IncrementCount(RequestContext context) =>
        incrementCount is null ? 1
            : long.TryParse(incrementCount.EvaluateString(context, Name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) && count >= 0 ? count
            : throw new PolicyExecutionException(Name, "InvalidIncrementCount", "increment-count must be a whole number of 0 or more.");

    private PolicyExecutionException Exceeded(QuotaLimit limit, TimeSpan renewsIn)
    {
        var seconds = (long)Math.Ceiling(renewsIn.TotalSeconds);
        var message = Message(limit, seconds);
        var response = ResponseState.Json(StatusCodes.Status403Forbidden, "Quota Exceeded", $$"""{ "statusCode": 403, "message": "{{message}}" }""");
        response.Headers["Retry-After"] = [seconds.ToString(CultureInfo.InvariantCulture)];
        return new PolicyExecutionException(Name, "QuotaExceeded", message) { Response = response };
    }
}
