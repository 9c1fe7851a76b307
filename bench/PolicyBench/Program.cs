using BenchmarkDotNet.Running;
using Gateway.Bench;

// PolicyBench: the gateway's own cost, without network. Run the same way each time:
//   dotnet run -c Release --project bench/PolicyBench -- --filter '*' --job short
// Request benchmarks report a ratio against the baseline (a policy that only returns), measured in the same run.
// To profile one of the side-by-side policies in memory (attach perf or dotnet-trace to the process it prints):
//   dotnet run -c Release --project bench/PolicyBench -- loop shipped|article|forward-only|FOLDER SECONDS [allocations]
// (FOLDER: files copied over apim/, as the examples are; e.g. one fragment emptied, to see what it costs.)
// ("allocations" adds the types allocated, from the runtime's randomized allocation sampling, .NET 10; it slows the loop.)
if (args is ["loop", var policy, var seconds, ..] && args.Length <= 4)
{
    var allocations = args.Length == 4 && args[3] == "allocations";
    return await ShippedPolicyBenchmarks.LoopAsync(policy, TimeSpan.FromSeconds(int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)), allocations);
}

BenchmarkSwitcher.FromTypes([typeof(RequestBenchmarks), typeof(ShippedPolicyBenchmarks), typeof(LoadBenchmarks), typeof(LimiterBenchmarks), typeof(PoolBenchmarks), typeof(CounterBenchmarks), typeof(SubscriptionBenchmarks)]).Run(args);
return 0;
