using Gateway.Pipeline;
using Gateway.Policies;

namespace Gateway.RateLimiting;

/// <summary>
/// The key a request counts under in <c>rate-limit</c>/<c>quota</c> (its subscription) and their <c>-by-key</c> forms
/// (the evaluated <c>counter-key</c>), kept apart so that a counter key never meets a subscription's.
/// </summary>
internal static class CounterKeys
{
    public static string Of(PolicyValue? counterKey, RequestContext context, string source) =>
        counterKey is null
            ? "subscription:" + (context.Subscription?.Id ?? "anonymous")
            : "key:" + counterKey.EvaluateString(context, source);
}
