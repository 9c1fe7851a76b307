namespace Gateway.RateLimiting;

/// <summary>
/// The counters behind <c>limit-concurrency</c>: how many requests are inside the policies of each key right now, per
/// gateway instance. A request that would exceed the count is refused at once; nothing waits in a queue.
/// </summary>
internal sealed class ConcurrencyLimits
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _inside = new(StringComparer.Ordinal);

    /// <summary>A slot for one request under <paramref name="key"/>, or null when <paramref name="maxCount"/> are already inside.</summary>
    /// <returns>The slot; disposing it lets the next request in.</returns>
    public IDisposable? TryEnter(string key, int maxCount)
    {
        lock (_lock)
        {
            var inside = _inside.GetValueOrDefault(key);
            if (inside >= maxCount)
            {
                return null;
            }

            _inside[key] = inside + 1;
        }

        return new Slot(this, key);
    }

    /// <summary>How many requests are inside the policies of <paramref name="key"/>.</summary>
    public int Inside(string key)
    {
        lock (_lock)
        {
            return _inside.GetValueOrDefault(key);
        }
    }

    private void Leave(string key)
    {
        lock (_lock)
        {
            // Keys come from requests; forgetting an idle one keeps the table as small as the current traffic.
            if (_inside[key] == 1)
            {
                _inside.Remove(key);
            }
            else
            {
                _inside[key]--;
            }
        }
    }

    private sealed class Slot(ConcurrencyLimits limits, string key) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                limits.Leave(key);
            }
        }
    }
}
