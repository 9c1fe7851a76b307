using Gateway.Apim;
using Gateway.Backends;
using Gateway.RateLimiting;
using Gateway.Telemetry;

namespace Gateway.Admin.Page;

/// <summary>
/// What the gateway page shows, as <c>GET /_gateway/ui/state</c> answers it: every single backend with its circuit
/// breaker (and why it tripped) and its last minute of traffic, every pool with its members and the ones it picks from
/// now, and each token-limit counter key against its limit. It holds no secret: no URL, credential or subscription key
/// (a counter key that contains one is hidden).
/// </summary>
internal sealed record PageState(
    DateTimeOffset Now,
    IReadOnlyList<PageBackend> Backends,
    IReadOnlyList<PagePool> Pools,
    IReadOnlyList<PageTokenCounter> TokenCounters)
{
    /// <summary>What replaces a counter key that contains a subscription key.</summary>
    public const string HiddenKey = "(hidden: contains a subscription key)";

    public static PageState Read(ArtifactsProvider artifacts, CircuitBreakers breakers, BackendTraffic traffic, TokenLimits tokens, TimeProvider time)
    {
        var current = artifacts.Current;
        var all = current.Backends.All;
        var backends = all.OfType<Backend>()
            .OrderBy(b => b.Id, StringComparer.OrdinalIgnoreCase)
            .Select(b =>
            {
                var breaker = breakers.For(b);
                var trip = breaker?.CurrentTrip;
                var state = breaker is null ? "none" : trip is null ? "closed" : "open";
                return new PageBackend(b.Id, b.AzureRegion, state, trip, traffic.Of(b.Id));
            })
            .ToList();

        var pools = all.OfType<BackendPool>()
            .OrderBy(p => p.Id, StringComparer.OrdinalIgnoreCase)
            .Select(pool =>
            {
                var candidates = pool.Candidates(breakers.IsAvailable, out var next);
                return new PagePool(
                    pool.Id,
                    [.. pool.Members.Select(m => new PagePoolMember(m.Backend.Id, m.Priority, m.Weight, breakers.For(m.Backend)?.IsAvailable(out _) ?? true, candidates.Contains(m)))],
                    next?.Id,
                    candidates.Count == 0);
            })
            .ToList();

        var keys = current.Subscriptions;
        var counters = tokens.RateSnapshot().Select(u => Counter("tokens-per-minute", u))
            .Concat(tokens.QuotaSnapshot().Select(u => Counter("token-quota", u)))
            .ToList();
        return new PageState(time.GetUtcNow(), backends, pools, counters);

        PageTokenCounter Counter(string limit, CounterUsage usage) =>
            new(limit, keys.Reveals(usage.Key) ? HiddenKey : usage.Key, usage.Used, usage.Limit);
    }
}
