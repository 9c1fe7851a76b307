using Gateway.Pipeline;
using Gateway.Policies;

namespace Gateway.Backends;

/// <summary>
/// Where a <c>forward-request</c> goes, chosen anew on each execution (so a <c>retry</c> around it may reach another
/// member of a pool): a pool's available member, or the single backend <c>set-backend-service</c> named unless its
/// circuit breaker is tripped. A pool with session affinity keeps a session on its pinned member while that member is
/// available, and pins it to the member picked as usual otherwise (the client then gets a new cookie). When there is
/// none, the request fails as in API Management, with a 503 and no body, and goes to on-error; the seconds until the
/// soonest recovery are left in <see cref="RetryAfterVariable"/>.
/// </summary>
internal static class BackendSelection
{
    /// <summary>
    /// Set (an <c>int</c>, whole seconds rounded up) when no backend is available: how long until the backend, or the
    /// pool's first member, recovers. A local addition, which API Management does not offer; a policy reading it with
    /// <c>GetValueOrDefault&lt;int&gt;(name, fallback)</c> still runs there, on its fallback.
    /// </summary>
    public const string RetryAfterVariable = "apim-local:backend-retry-after";

    /// <summary>
    /// <c>context.LastError.Source</c> when no backend is available (the reason is
    /// <see cref="ErrorReasons.BackendUnavailable"/>).
    /// </summary>
    public const string ErrorSource = "forward-request";

    /// <summary>Whether <paramref name="error"/> is this class's "no backend available" (a retry condition sees its 503).</summary>
    public static bool IsUnavailable(PolicyExecutionException error) =>
        error.Reason == ErrorReasons.BackendUnavailable && error.Source == ErrorSource;

    /// <summary>Points <c>RequestContext.Target</c> at the chosen backend; returns its breaker (null when it has none).</summary>
    /// <exception cref="PolicyExecutionException">No backend is available.</exception>
    public static CircuitBreaker? Choose(RequestContext context)
    {
        var breakers = context.Services.CircuitBreakers;
        switch (context.BackendEntity)
        {
            case BackendPool pool:
                var session = pool.SessionAffinity is { } affinity ? context.Services.SessionCookies.SessionFor(context, pool, affinity) : null;
                var member = session?.Member is { } pinned && (breakers.For(pinned)?.IsAvailable(out _) ?? true)
                    ? pinned
                    : pool.Select(breakers.IsAvailable, context.Services.Random);
                if (member is null)
                {
                    // An exhausted pool pins no one: the client keeps whatever cookie it has.
                    session?.Member = null;
                    var soonest = pool.Members.Select(m => breakers.For(m.Backend)).Select(b => b is not null && !b.IsAvailable(out var until) ? until : DateTimeOffset.MinValue).Min();
                    throw Unavailable(context, soonest, $"Backend pool '{pool.Id}' is temporarily unavailable: the circuit breaker of every member is tripped.", ApimResponses.BackendPoolUnavailableReason);
                }

                session?.Member = member;
                context.Target = member.Target;
                return breakers.For(member);

            case Backend single:
                var breaker = breakers.For(single);
                if (breaker is not null && !breaker.IsAvailable(out var trippedUntil))
                {
                    throw Unavailable(context, trippedUntil, $"Backend '{single.Id}' is temporarily unavailable: its circuit breaker is tripped.", ApimResponses.BackendUnavailableReason);
                }

                context.Target = single.Target;
                return breaker;

            default:
                return null;
        }
    }

    private static PolicyExecutionException Unavailable(RequestContext context, DateTimeOffset recovers, string message, string statusReason)
    {
        var wait = recovers - context.Services.Time.GetUtcNow();
        context.VariableStore[RetryAfterVariable] = (int)Math.Max(1, Math.Ceiling(wait.TotalSeconds));
        return new PolicyExecutionException(ErrorSource, ErrorReasons.BackendUnavailable, message) { Response = ApimResponses.ServiceUnavailable(statusReason) };
    }
}
