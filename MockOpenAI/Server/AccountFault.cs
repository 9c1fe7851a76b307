namespace MockOpenAI.Server;

/// <summary>
/// One account-wide fault: its kind, the deployment it is limited to (null: every deployment), and how long it lasts,
/// until an instant of the account's clock or for a number of requests. <see cref="AccountFaults"/> owns the mutable
/// parts and changes them under its lock.
/// </summary>
internal sealed class AccountFault(FaultKind kind, string? deployment)
{
    public FaultKind Kind => kind;

    public string? Deployment => deployment;

    /// <summary>Unique within the process: how a held request finds its hang again.</summary>
    public long Id { get; init; }

    /// <summary>When a timed fault ends; null for one that counts requests.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The requests a counted fault still decides; null for a timed one.</summary>
    public int? Remaining { get; set; }

    /// <summary>The Retry-After of a throttle.</summary>
    public TimeSpan RetryAfter { get; init; }

    /// <summary>The status of a failure: 500 or 503.</summary>
    public int Status { get; init; }

    /// <summary>The extra latency of a slow-down.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Completed when the fault ends early (recovered, or replaced): releases the requests a hang holds.</summary>
    public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Applies(string deploymentName) => deployment is null || string.Equals(deployment, deploymentName, StringComparison.OrdinalIgnoreCase);
}
