using BenchmarkDotNet.Attributes;
using Gateway.RateLimiting;

namespace Gateway.Bench;

/// <summary>
/// The limiters' counters alone, without the HTTP path (whose timing drowns their cost on a busy machine): one call is
/// one request's work on the counters, at a steady 1,000 requests a second spread over <see cref="Keys"/> keys. The
/// clock moves 1 ms a call, and setup runs a minute of calls first, so the token minute always holds 60,000 charges.
/// </summary>
[MemoryDiagnoser]
public class CounterBenchmarks
{
    private static readonly DateTimeOffset Anchor = DateTimeOffset.UnixEpoch;
    private readonly SteppingClock _clock = new();
    private TokenLimits _tokens = null!;
    private QuotaCounters _quotas = null!;
    private string[] _keys = [];
    private int _next;

    [Params(1, 100, 10_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = [.. Enumerable.Range(0, Keys).Select(i => "key-" + i)];
        _tokens = new TokenLimits(_clock);
        _quotas = new QuotaCounters(_clock);
        for (var i = 0; i < 60_000; i++)
        {
            TokenLimitRequest();
            QuotaRequest();
        }
    }

    /// <summary>What the shipped token limit does for a request: admit its estimate, read the remaining tokens for the header, settle the usage.</summary>
    [Benchmark]
    public long TokenLimitRequest()
    {
        var key = NextKey();
        var lease = _tokens.AcquireRate(key, int.MaxValue, 9, held: null);
        var used = _tokens.RateUsed(key);
        lease.Settle(20);
        return used;
    }

    /// <summary><c>quota-by-key</c> with calls: check and count the call.</summary>
    [Benchmark]
    public bool QuotaRequest() =>
        _quotas.AcquireCalls(QuotaCounters.CounterOf(NextKey(), Anchor, TimeSpan.FromHours(1)), Anchor, TimeSpan.FromHours(1), long.MaxValue, 1, 0).IsAcquired;

    private string NextKey()
    {
        _clock.Now = _clock.Now.AddMilliseconds(1);
        var key = _keys[_next];
        _next = _next + 1 == _keys.Length ? 0 : _next + 1;
        return key;
    }

    private sealed class SteppingClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 15, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
