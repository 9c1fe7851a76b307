namespace MockOpenAI.Server;

/// <summary>The account-wide faults of <c>/__mock/faults</c> (<see cref="AccountFaults"/>).</summary>
internal enum FaultKind
{
    /// <summary>Azure's 429, with a fixed Retry-After, for a time.</summary>
    Throttle,

    /// <summary>A 500 or 503 for the next N requests.</summary>
    Fail,

    /// <summary>No answer until the fault ends, then the connection drops.</summary>
    Hang,

    /// <summary>The connection dropped before any byte, for the next N requests or for a time.</summary>
    Reset,

    /// <summary>Extra latency before the answer, for a time.</summary>
    Slow,
}
