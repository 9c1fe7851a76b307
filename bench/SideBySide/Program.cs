using Gateway.Bench.SideBySide.Backend;
using Gateway.Bench.SideBySide.Harness;
using Gateway.Bench.SideBySide.Yarp;

// SideBySide: the gateway next to a trivial backend and bare YARP, under the same HTTP load (docs/performance.md).
// One executable, three roles, each its own process:
//   SideBySide [--quick] [--rounds N] | --sustained SECONDS [--target KEY]   the harness (bench/side-by-side.sh)
//   SideBySide backend --urls URL                                           the trivial backend it starts
//   SideBySide yarp --urls URL --Backend=URL                                the bare YARP it starts
return args.FirstOrDefault() switch
{
    TrivialBackend.Role => await TrivialBackend.RunAsync(args[1..]),
    BareYarp.Role => await BareYarp.RunAsync(args[1..]),
    _ => await HarnessCommand.RunAsync(args),
};
