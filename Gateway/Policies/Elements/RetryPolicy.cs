using System.Globalization;
using System.Runtime.CompilerServices;
using Gateway.Backends;
using Gateway.Expressions;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>retry</c>: runs its children once, then again while <c>condition</c> holds, at most <c>count</c> more times.
/// The wait before retry n is <c>interval</c> (fixed); with <c>delta</c>, <c>interval + (n - 1) * delta</c> (linear);
/// with <c>delta</c> and <c>max-interval</c>, <c>interval + (2^(n-1) - 1) * random(0.8 delta, 1.2 delta)</c> capped at
/// <c>max-interval</c> (exponential: 10 s, 20 s, 40 s, 80 s, 100 s... for 10/10/100). <c>first-fast-retry</c> makes the
/// first retry immediate. A child's error is not retried: it goes to on-error. The exception is the exhausted pool (no
/// backend available to <c>forward-request</c>): as in API Management, its 503 is a response the condition sees, so a
/// retry may wait for a breaker to close; when the retry stops on it, the error goes on to on-error.
/// </summary>
internal sealed class RetryPolicy(
    ElementInfo info,
    PolicyValue condition,
    PolicyValue count,
    PolicyValue interval,
    PolicyValue? maxInterval,
    PolicyValue? delta,
    PolicyValue? firstFastRetry,
    IReadOnlyList<PolicyElement> children) : PolicyElement(info)
{
    public const int MaxCount = 50;

    public override IEnumerable<IReadOnlyList<PolicyElement>> Nested => [children];

    public static PolicyElement? Parse(ElementReader reader)
    {
        var condition = reader.Value("condition", required: true, ExpressionKind.Condition);
        var count = reader.Value("count", required: true);
        var interval = reader.Value("interval", required: true);
        var maxInterval = reader.Value("max-interval");
        var delta = reader.Value("delta");
        var firstFast = reader.Value("first-fast-retry");
        CheckLiteral(reader, count, "count", 1, MaxCount);
        CheckLiteral(reader, interval, "interval", 0, int.MaxValue);
        CheckLiteral(reader, maxInterval, "max-interval", 0, int.MaxValue);
        CheckLiteral(reader, delta, "delta", 0, int.MaxValue);
        if (maxInterval is not null && delta is null)
        {
            reader.Error("max-interval needs delta (the exponential algorithm uses both)");
        }

        var children = reader.PolicyChildren();
        return condition is null || count is null || interval is null
            ? null
            : new RetryPolicy(reader.Info, condition, count, interval, maxInterval, delta, firstFast, children);
    }

    /// <summary>The wait before retry <paramref name="retry"/> (1-based), by API Management's three algorithms.</summary>
    public static TimeSpan Wait(int retry, double interval, double? delta, double? maxInterval, bool firstFastRetry, Func<double> random)
    {
        if (firstFastRetry && retry == 1)
        {
            return TimeSpan.Zero;
        }

        double seconds;
        if (delta is null)
        {
            seconds = interval;
        }
        else if (maxInterval is null)
        {
            seconds = interval + ((retry - 1) * delta.Value);
        }
        else
        {
            var jittered = delta.Value * (0.8 + (0.4 * random()));
            seconds = Math.Min(interval + ((Math.Pow(2, retry - 1) - 1) * jittered), maxInterval.Value);
        }

        return TimeSpan.FromSeconds(seconds);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var retries = Number(count, context, "count", 1, MaxCount);
        var seconds = Number(interval, context, "interval", 0, int.MaxValue);
        double? max = maxInterval is null ? null : Number(maxInterval, context, "max-interval", 0, int.MaxValue);
        double? step = delta is null ? null : Number(delta, context, "delta", 0, int.MaxValue);
        var fast = firstFastRetry?.Evaluate(context, Name) switch
        {
            null => false,
            bool value => value,
            string text when bool.TryParse(text, out var parsed) => parsed,
            var other => throw new PolicyExecutionException(Name, ErrorReasons.InvalidFirstFastRetry, $"first-fast-retry must be true or false, not '{other}'."),
        };

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (await PolicyRunner.RunElementsAsync(context, frame, children) == PolicyFlow.Return)
                {
                    return PolicyFlow.Return;
                }
            }
            catch (PolicyExecutionException ex) when (BackendSelection.IsUnavailable(ex) && ex.Response is not null)
            {
                context.ReplaceResponse(ex.Response);
                if (attempt >= retries || !condition.IsTrue(context, Name))
                {
                    throw;
                }

                await WaitAsync(context, attempt + 1, seconds, step, max, fast);
                continue;
            }

            if (attempt >= retries || !condition.IsTrue(context, Name))
            {
                return PolicyFlow.Continue;
            }

            await WaitAsync(context, attempt + 1, seconds, step, max, fast);
        }
    }

    private static async Task WaitAsync(RequestContext context, int retry, int seconds, double? step, double? max, bool fast)
    {
        var wait = Wait(retry, seconds, step, max, fast, context.Services.Random.NextDouble);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, context.Services.Time, context.HttpContext.RequestAborted);
        }
    }

    private static int Number(PolicyValue value, RequestContext context, string name, int min, int max) =>
        int.TryParse(value.EvaluateString(context, "retry"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new PolicyExecutionException("retry", ErrorReasons.InvalidRetryAttribute, $"retry {name} must be a whole number from {min} to {max}.");

    private static void CheckLiteral(ElementReader reader, PolicyValue? value, string name, int min, int max)
    {
        if (value is { IsExpression: false } && !(int.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max))
        {
            reader.Error($"{name} must be a whole number from {min} to {max}, not '{value}'");
        }
    }
}
