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

    /// <summary>The names of this request's leases on the calls and bytes of a counter.</summary>
    private const string CallsCounter = "quota-calls\n";

    private const string BytesCounter = "quota-bytes\n";

    public static PolicyElement? ParseByKey(ElementReader reader) => Parse(reader, byKey: true);

    public static PolicyElement? ParseBySubscription(ElementReader reader) => Parse(reader, byKey: false);

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var key = CounterKeys.Of(counterKey, context, Name);

        // quota's periods start with the subscription (whose creation date is the Unix epoch until subscriptions have dates).
        var anchor = firstPeriodStart ?? new DateTimeOffset(DateTime.SpecifyKind(context.Subscription?.CreatedDate ?? DateTime.UnixEpoch, DateTimeKind.Utc));
        var counter = QuotaCounters.CounterOf(key, anchor, renewal);
        var quotas = context.Services.Quotas;

        // A request counts once on a counter, however many quotas name it: the first of them holds the lease that counts
        // it, the others check the counter without it. Without an increment condition the call is counted in the same
        // step as the check, so concurrent requests cannot overshoot.
        var heldCalls = context.HeldLease(CallsCounter + counter);
        Lease? callsLease = null;
        if (calls is { } maxCalls)
        {
            var charge = heldCalls is null && incrementCondition is null ? IncrementCount(context) : 0;
            callsLease = quotas.AcquireCalls(counter, anchor, renewal, maxCalls, charge, heldCalls?.Charged ?? 0);
            if (!callsLease.IsAcquired)
            {
                throw Exceeded(QuotaLimit.Calls, callsLease.RetryAfter);
            }
        }

        Lease? bytesLease = null;
        if (bandwidthBytes is { } maxBytes)
        {
            bytesLease = quotas.AcquireBandwidth(counter, anchor, renewal, maxBytes);
            if (!bytesLease.IsAcquired)
            {
                callsLease?.Release();
                throw Exceeded(QuotaLimit.Bandwidth, bytesLease.RetryAfter);
            }
        }

        callsLease = Hold(context, CallsCounter + counter, callsLease);
        bytesLease = Hold(context, BytesCounter + counter, bytesLease);

        // The meter must wrap the bodies before anything is forwarded or written.
        var meter = bandwidthBytes is null ? null : TransferMeter.Of(context);
        if (incrementCondition is null)
        {
            SettleBytesWhenSent(context, bytesLease, meter);
        }
        else
        {
            context.OnCompleted(() =>
            {
                if (incrementCondition.IsTrue(context, Name))
                {
                    callsLease?.Settle(IncrementCount(context));
                    SettleBytesWhenSent(context, bytesLease, meter);
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

    /// <summary>Records <paramref name="lease"/> as the one that counts the request on the counter, unless another quota holds one: null then.</summary>
    private static Lease? Hold(RequestContext context, string counter, Lease? lease)
    {
        if (lease is null || context.HeldLease(counter) is not null)
        {
            return null;
        }

        context.HoldLease(counter, lease);
        return lease;
    }

    private static void SettleBytesWhenSent(RequestContext context, Lease? bytesLease, TransferMeter? meter)
    {
        if (bytesLease is not null && meter is not null)
        {
            context.OnResponseSent(() => bytesLease.Settle(meter.Bytes));
        }
    }

    private long IncrementCount(RequestContext context) =>
        incrementCount is null ? 1
            : long.TryParse(incrementCount.EvaluateString(context, Name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) && count >= 0 ? count
            : throw new PolicyExecutionException(Name, ErrorReasons.InvalidIncrementCount, "increment-count must be a whole number of 0 or more.");

    private PolicyExecutionException Exceeded(QuotaLimit limit, TimeSpan renewsIn)
    {
        var seconds = (long)Math.Ceiling(renewsIn.TotalSeconds);
        var message = Message(limit, seconds);
        var response = ResponseState.Json(StatusCodes.Status403Forbidden, "Quota Exceeded", $$"""{ "statusCode": 403, "message": "{{message}}" }""");
        response.Headers["Retry-After"] = [seconds.ToString(CultureInfo.InvariantCulture)];
        return new PolicyExecutionException(Name, ErrorReasons.QuotaExceeded, message) { Response = response };
    }
}
