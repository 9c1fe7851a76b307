using System.Collections.Concurrent;

namespace Gateway.RateLimiting;

/// <summary>
/// A limiter's states by key: a concurrent dictionary of small states, each behind its own lock, so that no lock is
/// shared by all keys. Idle keys are forgotten by a sweep that runs at most once per <see cref="SweepInterval"/> on the
/// injected clock: the request that finds it due walks the dictionary (a lock-free enumeration), taking each key's lock
/// in turn; no other request waits for it, and a request pays nothing for the keys otherwise.
/// </summary>
/// <typeparam name="TState">The state of one key.</typeparam>
internal sealed class KeyedStates<TState>(TimeProvider time)
    where TState : KeyState, new()
{
    /// <summary>How often idle keys are looked for.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, TState> _states = new(StringComparer.Ordinal);
    private long _nextSweep = time.GetUtcNow().UtcTicks + SweepInterval.Ticks;

    public int Count => _states.Count;

    public void Clear() => _states.Clear();

    /// <summary>The key's state, created when it has none, under its lock until the scope is disposed.</summary>
    public Locked Lock(string key, DateTimeOffset now)
    {
        SweepIfDue(now);
        while (true)
        {
            var state = _states.GetOrAdd(key, static _ => new TState());
            state.Gate.Enter();
            if (!state.Evicted)
            {
                return new Locked(state);
            }

            // Swept between the look-up and the lock: the dictionary no longer holds it.
            state.Gate.Exit();
        }
    }

    /// <summary>The key's state under its lock, when the key has one (a key without state has counted nothing).</summary>
    public bool TryFind(string key, out Locked found)
    {
        if (_states.TryGetValue(key, out var state))
        {
            state.Gate.Enter();
            if (!state.Evicted)
            {
                found = new Locked(state);
                return true;
            }

            state.Gate.Exit();
        }

        found = default;
        return false;
    }

    /// <summary>Reads every key's state under its lock, one key at a time (for the gateway page; not on the request path).</summary>
    public List<TResult> Read<TResult>(Func<string, TState, TResult?> read)
        where TResult : class
    {
        var results = new List<TResult>();
        foreach (var (key, state) in _states)
        {
            using var scope = state.Gate.EnterScope();
            if (!state.Evicted && read(key, state) is { } result)
            {
                results.Add(result);
            }
        }

        return results;
    }

    private void SweepIfDue(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextSweep, now.UtcTicks + SweepInterval.Ticks, due) != due)
        {
            return;
        }

        foreach (var (key, state) in _states)
        {
            using var scope = state.Gate.EnterScope();
            if (state.IsIdle(now))
            {
                state.Evicted = true;
                _states.TryRemove(KeyValuePair.Create(key, state));
            }
        }
    }

    /// <summary>A key's state with its lock held; disposing the scope lets the lock go.</summary>
    public readonly ref struct Locked(TState state)
    {
        private readonly TState? _state = state;

        public TState State => _state!;

        public void Dispose() => _state?.Gate.Exit();
    }
}
