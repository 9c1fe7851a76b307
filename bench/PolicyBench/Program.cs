using BenchmarkDotNet.Running;
using Gateway.Bench;

// PolicyBench: the gateway's own cost, without network. Run the same way each time:
//   dotnet run -c Release --project bench/PolicyBench -- --filter '*' --job short
// Request benchmarks report a ratio against the baseline (a policy that only returns), measured in the same run.
BenchmarkSwitcher.FromTypes([typeof(RequestBenchmarks), typeof(LoadBenchmarks), typeof(LimiterBenchmarks), typeof(PoolBenchmarks), typeof(CounterBenchmarks)]).Run(args);
