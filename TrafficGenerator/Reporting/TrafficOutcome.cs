namespace TrafficGenerator.Reporting;

/// <summary>How one scheduled request ended.</summary>
internal enum TrafficOutcome
{
    /// <summary>Answered (a stream: read to its end).</summary>
    Ok,

    /// <summary>A 429, from the gateway's token limit or from every backend of a pool throttling.</summary>
    Throttled,

    /// <summary>Any other status, a refused or broken connection, a stream cut short.</summary>
    Error,

    /// <summary>No answer within <see cref="TrafficOptions.RequestTimeout"/>.</summary>
    Timeout,

    /// <summary>Not sent: <see cref="TrafficOptions.MaxConcurrency"/> requests were still in flight.</summary>
    Skipped,
}
