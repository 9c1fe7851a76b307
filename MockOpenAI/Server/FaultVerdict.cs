namespace MockOpenAI.Server;

/// <summary>What <see cref="AccountFaults.Decide"/> does to one request: a delay first (zero by default), then the fault that answers it, if any.</summary>
internal readonly record struct FaultVerdict(TimeSpan Delay, AccountFault? Fault);
