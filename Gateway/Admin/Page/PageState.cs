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
                var candidates = pool.Candidates(b => breakers.For(b)?.IsAvailable(out _) ?? true, out var next);
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

/// <summary>A single backend on the page: its breaker (<c>none</c> without a rule, <c>closed</c>, or <c>open</c> with the trip) and its traffic.</summary>
internal sealed record PageBackend(string Id, string? Region, string Breaker, BreakerTrip? Trip, BackendTrafficSummary Traffic);

/// <summary>A pool on the page: its members, the one the next request goes to (round robin; null when weighted or exhausted), and whether none is available.</summary>
internal sealed record PagePool(string Id, IReadOnlyList<PagePoolMember> Members, string? Next, bool Exhausted);

/// <summary>A pool member: priority, weight, whether its breaker lets requests through, and whether the pool picks from it now.</summary>
internal sealed record PagePoolMember(string BackendId, int Priority, int Weight, bool Available, bool Selectable);

/// <summary>A token-limit counter key: which limit (<c>tokens-per-minute</c> or <c>token-quota</c>), the tokens used and the limit.</summary>
internal sealed record PageTokenCounter(string Limit, string Key, long Used, long Max);
