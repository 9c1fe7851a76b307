using BenchmarkDotNet.Attributes;

namespace Gateway.Bench;

/// <summary>
/// The shipped policy's shape on a pool of <see cref="Members"/> backends (each with the shipped circuit-breaker rule,
/// answered in memory): pick a member, charge the subscription's tokens per minute, forward, settle the usage.
/// </summary>
[MemoryDiagnoser]
public class PoolBenchmarks : IDisposable
{
    private BenchHost _host = null!;

    [Params(1, 30)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var members = Enumerable.Range(0, Members).Select(i => "bench-member-" + i).ToArray();
        _host = new BenchHost(
            """
            <policies>
              <inbound>
                <set-backend-service backend-id="bench-pool" />
                <azure-openai-token-limit counter-key="@(context.Subscription.Id + "/gpt-4o")" tokens-per-minute="2000000000" estimate-prompt-tokens="true" />
              </inbound>
              <backend>
                <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)" count="2" interval="0" first-fast-retry="true">
                  <forward-request timeout="120" buffer-request-body="true" />
                </retry>
              </backend>
              <outbound />
              <on-error />
            </policies>
            """,
            [.. members.Select(BenchHost.Backend), BenchHost.Pool("bench-pool", members)]);
        _host.ExpectAsync(200).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _host?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public Task ForwardThroughPool() => _host.SendAsync();
}
