using System.Collections.Concurrent;
using Gateway.Admin;

namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>rate-limit</c> and <c>rate-limit-by-key</c>: per key, a window that starts with its first
/// call and renews after the renewal period, on the injected clock (per gateway instance, as in API Management).
/// </summary>
internal sealed class RateLimitCounters(TimeProvider time) : IResettableState
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Whether one more call fits; when it does not, how long until the window renews.</summary>
    public (bool Allowed, int Remaining, TimeSpan RetryAfter) Check(string key, int calls, TimeSpan period)
    {
        var window = Current(key, period);
        lock (window)
        {
            var now = time.GetUtcNow();
            return window.Count < calls
                ? (true, calls - window.Count - 1, TimeSpan.Zero)
                : (false, 0, window.Start + period - now);
        }
    }

    /// <summary>Counts calls against the key's current window.</summary>
    public void Add(string key, TimeSpan period, int count)
    {
        var window = Current(key, period);
        lock (window)
        {
            window.Count += count;
        }
    }

    public string Name => "rate-limit";

    public StateScope Scope => StateScope.Counters;

    public int Count => _windows.Count;

    /// <summary>Forgets every window: each key starts a fresh one with its next call.</summary>
    public void Reset() => _windows.Clear();

    private Window Current(string key, TimeSpan period)
    {
        var now = time.GetUtcNow();
        var window = _windows.GetOrAdd(key, _ => new Window(now));
        lock (window)
        {
            if (now >= window.Start + period)
            {
                window.Start = now;
                window.Count = 0;
            }
        }

        return window;
    }

    private sealed class Window(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; set; } = start;

        public int Count { get; set; }
    }
}
