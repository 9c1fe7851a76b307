namespace MockOpenAI.Server;

/// <summary>
/// The faults set through <c>/__mock/faults</c> (<see cref="FaultsApi"/>), timed on the account's injected clock. Each
/// inference request asks <see cref="Decide"/> once, after its authentication and deployment are known: a slow-down
/// adds its latency, then the first of hang, reset, fail and throttle that applies decides the answer (a counted fault
/// uses up one of its requests only when it decides one). A fault set for a kind and scope that already has one replaces
/// it. Expired faults leave on the next look.
/// </summary>
internal sealed class AccountFaults(TimeProvider time)
{
    private static readonly FaultKind[] Deciding = [FaultKind.Hang, FaultKind.Reset, FaultKind.Fail, FaultKind.Throttle];

    private readonly Lock _lock = new();
    private readonly List<AccountFault> _faults = [];
    private long _nextId;

    /// <summary>Adds a fault built by <paramref name="create"/> (given its id), replacing the one of the same kind and scope.</summary>
    public AccountFault Set(Func<long, AccountFault> create)
    {
        lock (_lock)
        {
            var fault = create(++_nextId);
            foreach (var replaced in _faults.Where(f => f.Kind == fault.Kind && string.Equals(f.Deployment, fault.Deployment, StringComparison.OrdinalIgnoreCase)).ToArray())
            {
                End(replaced);
            }

            _faults.Add(fault);
            return fault;
        }
    }

    /// <summary>The faults in force, oldest first.</summary>
    public IReadOnlyList<AccountFault> Snapshot()
    {
        lock (_lock)
        {
            Prune(time.GetUtcNow());
            return [.. _faults];
        }
    }

    /// <summary>Ends every fault (held requests are released); returns how many there were.</summary>
    public int Clear()
    {
        lock (_lock)
        {
            Prune(time.GetUtcNow());
            var count = _faults.Count;
            foreach (var fault in _faults.ToArray())
            {
                End(fault);
            }

            return count;
        }
    }

    /// <summary>What the faults do to one inference request for <paramref name="deployment"/>.</summary>
    public FaultVerdict Decide(string deployment)
    {
        lock (_lock)
        {
            if (_faults.Count == 0)
            {
                return default;
            }

            Prune(time.GetUtcNow());
            var delay = _faults.Where(f => f.Kind == FaultKind.Slow && f.Applies(deployment)).Select(f => f.Latency).DefaultIfEmpty(TimeSpan.Zero).Max();
            foreach (var kind in Deciding)
            {
                if (_faults.FirstOrDefault(f => f.Kind == kind && f.Applies(deployment)) is { } fault)
                {
                    if (fault.Remaining is { } remaining && (fault.Remaining = remaining - 1) == 0)
                    {
                        _faults.Remove(fault);
                    }

                    return new FaultVerdict(delay, fault);
                }
            }

            return new FaultVerdict(delay, null);
        }
    }

    /// <summary>
    /// Holds a request the hang <paramref name="id"/> decided until the hang ends (expires, is recovered or replaced);
    /// false when the client gave up first.
    /// </summary>
    public async Task<bool> HoldAsync(long id, CancellationToken aborted)
    {
        AccountFault? hang;
        lock (_lock)
        {
            hang = _faults.Find(f => f.Id == id);
        }

        if (hang?.Until is not { } until)
        {
            return true;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var expiry = Task.Delay(Max(until - time.GetUtcNow(), TimeSpan.Zero), time, stop.Token);
        await Task.WhenAny(expiry, hang.Ended.Task);
        await stop.CancelAsync();
        return !aborted.IsCancellationRequested;
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var expired in _faults.Where(f => f.Until <= now).ToArray())
        {
            End(expired);
        }
    }

    private void End(AccountFault fault)
    {
        _faults.Remove(fault);
        fault.Ended.TrySetResult();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
