using System.Globalization;
using System.Net.Http.Headers;

namespace Gateway.Backends;

/// <summary>
/// One backend's circuit breaker in this gateway instance, on the injected clock. It trips when the failures within the
/// rule's interval reach <c>count</c>, or make at least <c>percentage</c> of the requests answered within it. Tripped, the
/// backend gets no requests for <c>tripDuration</c> or, with <c>acceptRetryAfter</c>, for as long as the tripping
/// response's <c>Retry-After</c> (seconds or an HTTP date; <c>retry-after-ms</c> when it has no Retry-After) asks; at that
/// instant the breaker closes again with its counts cleared. Outcomes of requests that were already under way when it
/// tripped are ignored. <c>tripped</c> and <c>closed</c> are called outside the lock, once per change.
/// </summary>
internal sealed class CircuitBreaker(CircuitBreakerRule rule, TimeProvider time, Action<DateTimeOffset>? tripped = null, Action? closed = null)
{
    private const string RetryAfterMilliseconds = "retry-after-ms";

    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, bool Failed)> _outcomes = new();
    private int _failures;
    private DateTimeOffset? _trippedUntil;
    private BreakerTrip? _trip;
    private int _generation;

    public CircuitBreakerRule Rule => rule;

    /// <summary>Counts the trips that have ended; an outcome of a request sent in an earlier generation is ignored.</summary>
    public int Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    /// <summary>Whether the backend may get a request now; when not, <paramref name="trippedUntil"/> is when it may again.</summary>
    public bool IsAvailable(out DateTimeOffset trippedUntil)
    {
        bool reopened;
        bool available;
        lock (_lock)
        {
            reopened = Close(time.GetUtcNow());
            trippedUntil = _trippedUntil ?? default;
            available = _trippedUntil is null;
        }

        if (reopened)
        {
            closed?.Invoke();
        }

        return available;
    }

    /// <summary>The trip in force now, with what caused it; null while the breaker is closed.</summary>
    public BreakerTrip? CurrentTrip
    {
        get
        {
            bool reopened;
            BreakerTrip? trip;
            lock (_lock)
            {
                reopened = Close(time.GetUtcNow());
                trip = _trip;
            }

            if (reopened)
            {
                closed?.Invoke();
            }

            return trip;
        }
    }

    /// <summary>Counts a response of the backend to a request sent in <paramref name="generation"/> (null: the current one).</summary>
    public void OnResponse(int statusCode, IReadOnlyDictionary<string, string[]> headers, int? generation = null)
    {
        var failed = rule.IsFailure(statusCode);
        Record(failed, failed && rule.AcceptRetryAfter ? headers : null, generation, statusCode, errorReason: null);
    }

    /// <summary>Counts a forwarding error (no response), by its <c>context.LastError.Reason</c>.</summary>
    public void OnError(string reason, int? generation = null) => Record(rule.IsFailure(reason), headers: null, generation, statusCode: null, reason);

    /// <summary>How long a response asks callers to wait; null when it does not say (or says zero).</summary>
    public static TimeSpan? RetryAfter(IReadOnlyDictionary<string, string[]> headers, DateTimeOffset now)
    {
        if (headers.TryGetValue("Retry-After", out var values) && values.Length > 0
            && RetryConditionHeaderValue.TryParse(values[0], out var header))
        {
            var wait = header.Delta ?? (header.Date - now);
            return wait > TimeSpan.Zero ? wait : null;
        }

        if (headers.TryGetValue(RetryAfterMilliseconds, out values) && values.Length > 0
            && double.TryParse(values[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds > 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return null;
    }

    private void Record(bool failed, IReadOnlyDictionary<string, string[]>? headers, int? generation, int? statusCode, string? errorReason)
    {
        var reopened = false;
        var trips = Trips(failed, headers, generation, statusCode, errorReason, ref reopened);
        if (reopened)
        {
            closed?.Invoke();
        }

        if (trips is { } until)
        {
            tripped?.Invoke(until);
        }
    }

    /// <summary>Counts the outcome; returns when the breaker stays tripped until, if this outcome tripped it.</summary>
    private DateTimeOffset? Trips(bool failed, IReadOnlyDictionary<string, string[]>? headers, int? generation, int? statusCode, string? errorReason, ref bool reopened)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            reopened = Close(now);

            // While tripped, or for a request sent before the last trip ended (a slow answer arriving late), nothing counts.
            if (_trippedUntil is not null || (generation is { } sent && sent != _generation))
            {
                return null;
            }

            while (_outcomes.TryPeek(out var oldest) && oldest.At <= now - rule.Interval)
            {
                _outcomes.Dequeue();
                _failures -= oldest.Failed ? 1 : 0;
            }

            if (!failed && rule.Percentage is null)
            {
                // A count threshold needs only the failures.
                return null;
            }

            _outcomes.Enqueue((now, failed));
            _failures += failed ? 1 : 0;
            var trips = failed && (rule.Count is { } count
                ? _failures >= count
                : _failures * 100L >= rule.Percentage!.Value * _outcomes.Count);
            if (!trips)
            {
                return null;
            }

            var retryAfter = headers is null ? null : RetryAfter(headers, now);
            var until = now + (retryAfter ?? rule.TripDuration);
            _trippedUntil = until;
            _trip = new BreakerTrip(now, until, statusCode, errorReason, retryAfter is not null, rule.Name);
            return until;
        }
    }

    /// <summary>Ends a trip whose time is up: the backend takes requests again, its earlier failures forgotten. True when it ended one.</summary>
    private bool Close(DateTimeOffset now)
    {
        if (_trippedUntil is { } until && now >= until)
        {
            _trippedUntil = null;
            _trip = null;
            _outcomes.Clear();
            _failures = 0;
            _generation++;
            return true;
        }

        return false;
    }
}
