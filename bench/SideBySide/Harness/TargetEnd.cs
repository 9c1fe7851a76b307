namespace Gateway.Bench.SideBySide.Harness;

/// <summary>One target after every round: what is measured once per process rather than per round.</summary>
/// <param name="Target">The target.</param>
/// <param name="FirstEventMs">Median time to the first event of a streamed completion.</param>
/// <param name="RssMegabytes">VmRSS after all its loads.</param>
/// <param name="Gc">Its garbage collector, as configured and as seen.</param>
/// <param name="BreakerTrips">For a gateway, the circuit breakers its log says tripped.</param>
internal sealed record TargetEnd(Target Target, double FirstEventMs, double RssMegabytes, GcMode Gc, int BreakerTrips);
