using BenchmarkDotNet.Attributes;

namespace Gateway.Bench;

/// <summary>
/// The limiters under requests spread over <see cref="Keys"/> counter keys (round robin), each request forwarded to an
/// in-memory backend that reports 20 tokens: their cost per request should not grow with the keys, nor with the
/// requests already counted in the window. The limits are never reached.
/// </summary>
[MemoryDiagnoser]
public class LimiterBenchmarks : IDisposable
{
    private const string CounterKey = """@(context.Request.Headers.GetValueOrDefault("x-key", ""))""";

    private BenchHost _host = null!;
    private string[] _keys = [];
    private int _next;

    [Params(1, 100, 10_000)]
    public int Keys { get; set; }

    [GlobalSetup(Target = nameof(ForwardOnly))]
    public void SetupForwardOnly() => Setup(string.Empty);

    /// <summary>The shipped policy's limiter: tokens per minute, prompt estimated.</summary>
    [GlobalSetup(Target = nameof(TokenLimit))]
    public void SetupTokenLimit() => Setup($"""<azure-openai-token-limit counter-key="{CounterKey}" tokens-per-minute="2000000000" estimate-prompt-tokens="true" />""");

    [GlobalSetup(Target = nameof(RateLimitByKey))]
    public void SetupRateLimitByKey() => Setup($"""<rate-limit-by-key calls="2000000000" renewal-period="60" counter-key="{CounterKey}" />""");

    /// <summary>Every limiter on the key: tokens per minute and per hour, calls per minute, a call quota, concurrency.</summary>
    [GlobalSetup(Target = nameof(AllLimiters))]
    public void SetupAllLimiters() => Setup(
        $"""
        <azure-openai-token-limit counter-key="{CounterKey}" tokens-per-minute="2000000000" token-quota="1000000000000" token-quota-period="Hourly" estimate-prompt-tokens="true" />
        <rate-limit-by-key calls="2000000000" renewal-period="60" counter-key="{CounterKey}" />
        <quota-by-key calls="2000000000" renewal-period="3600" counter-key="{CounterKey}" />
        """,
        $"""<limit-concurrency key="{CounterKey}" max-count="100000"><forward-request timeout="30" /></limit-concurrency>""");

    [GlobalCleanup]
    public void Dispose()
    {
        _host?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public Task ForwardOnly() => SendAsync();

    [Benchmark]
    public Task TokenLimit() => SendAsync();

    [Benchmark]
    public Task RateLimitByKey() => SendAsync();

    [Benchmark]
    public Task AllLimiters() => SendAsync();

    private Task SendAsync()
    {
        var key = _keys[_next];
        _next = _next + 1 == _keys.Length ? 0 : _next + 1;
        return _host.SendAsync(key);
    }

    private void Setup(string inbound, string backend = """<forward-request timeout="30" />""")
    {
        _keys = [.. Enumerable.Range(0, Keys).Select(i => "key-" + i)];
        _host = new BenchHost(
            $"""
            <policies>
              <inbound>
                <set-backend-service backend-id="bench-member-0" />
                {inbound}
              </inbound>
              <backend>{backend}</backend>
              <outbound />
              <on-error />
            </policies>
            """,
            BenchHost.Backend("bench-member-0"));
        _host.ExpectAsync(200, _keys[0]).GetAwaiter().GetResult();
    }
}
