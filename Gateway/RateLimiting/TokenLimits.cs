using Gateway.Admin;
using Gateway.Tokens;

namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>azure-openai-token-limit</c> and <c>llm-token-limit</c>, per gateway instance as in API
/// Management: per counter key, the tokens of the last minute (<see cref="SlidingWindowCounters"/>) and, per key and
/// quota period, the tokens of the current period (<see cref="PeriodCounters"/>). A request is charged when it is
/// admitted (its estimated prompt, or nothing) and its lease is settled with what it consumed once that is known. A key
/// charges a request once, however many of the policies name it: a request that already holds a lease on the counter
/// is checked without it and charged nothing more.
/// </summary>
internal sealed class TokenLimits(TimeProvider time) : IResettableState
{
    private readonly TimeProvider _time = time;
    private readonly SlidingWindowCounters _rate = new(time);
    private readonly PeriodCounters _quota = new(time);

    public string Name => "token-limit";

    public StateScope Scope => StateScope.Counters;

    public int Count => _rate.Count + _quota.Count;

    /// <summary>Forgets every key's tokens per minute and quota usage.</summary>
    public void Reset()
    {
        _rate.Clear();
        _quota.Clear();
    }

    /// <summary>Admits <paramref name="need"/> tokens under the key's <c>tokens-per-minute</c>, charging them unless <paramref name="held"/>.</summary>
    public Lease AcquireRate(string key, long limit, long need, Lease? held) =>
        _rate.Acquire(key, limit, need, charge: held is null ? need : 0, own: held?.Charged ?? 0);

    /// <summary>Admits <paramref name="need"/> tokens under the key's <c>token-quota</c> for the current period, charging them unless <paramref name="held"/>.</summary>
    public Lease AcquireQuota(string key, TokenQuotaPeriod period, long limit, long need, Lease? held)
    {
        var (start, end) = TokenQuotaPeriods.At(period, _time.GetUtcNow());
        return _quota.Acquire(QuotaKey(key, period), start, end, limit, need, charge: held is null ? need : 0, own: held?.Charged ?? 0);
    }

    /// <summary>The tokens <paramref name="key"/> consumed in the last minute.</summary>
    public long RateUsed(string key) => _rate.Used(key);

    /// <summary>The tokens <paramref name="key"/> consumed in the current <paramref name="period"/>.</summary>
    public long QuotaUsed(string key, TokenQuotaPeriod period) =>
        _quota.Used(QuotaKey(key, period), TokenQuotaPeriods.At(period, _time.GetUtcNow()).Start);

    /// <summary>Each counter key's tokens in the last minute against its <c>tokens-per-minute</c>, by key.</summary>
    public IReadOnlyList<CounterUsage> RateSnapshot() => [.. _rate.Snapshot().OrderBy(u => u.Key, StringComparer.Ordinal)];

    /// <summary>Each counter key's tokens in its current quota period against its <c>token-quota</c>; the key reads <c>{period}/{counter key}</c>.</summary>
    public IReadOnlyList<CounterUsage> QuotaSnapshot() =>
        [.. _quota.Snapshot().Select(u => u with { Key = u.Key.Replace('\n', '/') }).OrderBy(u => u.Key, StringComparer.Ordinal)];

    private static string QuotaKey(string key, TokenQuotaPeriod period) => $"{period}\n{key}";
}
